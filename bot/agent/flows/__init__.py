"""What the bot does once the decision is made: order flows (verify, status, dispute, cancel,
return), exchanges and item changes, proposals the shopper confirms, and answers from the
store's documents."""

from bot.agent.flows.answer import Answers
from bot.agent.flows.orders import Orders
from bot.agent.flows.proposal import confirm, propose

__all__ = ["Answers", "Orders", "confirm", "propose"]
