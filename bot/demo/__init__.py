"""The demo store `make run` serves: its documents and orders are plain files in this folder."""

from bot.demo.seed import DEMO_PUBLIC_KEY, DEMO_STORE, seed_demo

__all__ = ["DEMO_PUBLIC_KEY", "DEMO_STORE", "seed_demo"]
