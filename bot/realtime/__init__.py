"""Realtime: the event bus between workers (memory or Redis)."""

from bot.realtime.bus import EventBus, store_channel
from bot.realtime.memory import MemoryBus
from bot.realtime.redis import RedisBus

__all__ = ["EventBus", "MemoryBus", "RedisBus", "store_channel"]
