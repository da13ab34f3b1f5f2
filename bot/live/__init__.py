"""The live chat: shopper and agent sockets' actions, bot turns per conversation, frames."""

from bot.live.allowance import Allowance
from bot.live.chat import LiveChat, conversation_channel, queue_channel
from bot.live.delivery import Delivery
from bot.live.frames import FrameError, Limits, error_frame, parse

__all__ = [
    "Allowance",
    "Delivery",
    "FrameError",
    "Limits",
    "LiveChat",
    "conversation_channel",
    "error_frame",
    "parse",
    "queue_channel",
]
