"""Parley: the customer-service service (domain, agent, tools, storage, realtime, API, CLI)."""

__version__ = "0.1.0"
