"""HTTP and WebSocket API."""

from bot.api.app import create_app

__all__ = ["create_app"]
