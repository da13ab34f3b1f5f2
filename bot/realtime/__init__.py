"""Realtime: the event bus between workers (memory or Redis)."""

from bot.realtime.bus import RESYNC, Event, EventBus, Subscription, store_channel
from bot.realtime.memory import MemoryBus
from bot.realtime.redis import RedisBus

__all__ = ["RESYNC", "Event", "EventBus", "MemoryBus", "RedisBus", "Subscription", "store_channel"]
