"""A stronger proof of identity before a write: a one-time code sent to the account's email.

Reads need any way of verifying the store accepts; a write needs one of the policy's
`write_verification` ways. A shopper verified by email alone may see their orders and a
proposal; their yes to it brings a code to that address (logged where no mail server is
configured), and the action runs once they type it back. The code is kept only hashed, with
its expiry."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from bot.agent.intents import Intent
from bot.agent.replies import refused_because, say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.codes import code_matches, issue_code
from bot.domain.policy import Verification

log = logging.getLogger(__name__)


async def ask_for_code(turn: Turn, intent: Intent, memory: Memory) -> Decision:
    """Send a one-time code to the account's email and ask for it; the proposed action in
    `memory` waits for it."""
    customer_id = turn.desk.customer_id
    if customer_id is None or Verification.EMAIL.value not in turn.verified_by:
        reply = refused_because(turn.language, "not_verified")
        return turn.result(reply, intent, Outcome.DECLINED), memory
    issued = issue_code(customer_id, datetime.now(UTC))
    # No mail server is configured in this deployment: the code goes to the log, the only
    # place a merchant testing the flow can read it. Never to the chat.
    log.warning(
        "one-time code for %s (not sent: no mail server configured): %s",
        customer_id,
        issued.code,
        extra={"store_id": turn.store_id},
    )
    memory.awaiting = "code"
    memory.code = issued.record
    return turn.result(say(turn.language, "ask_code"), intent, Outcome.NEEDS_INFO), memory


def code_accepted(turn: Turn, entered: str) -> bool:
    """True when `entered` is the code sent for this conversation's customer, in time."""
    record = turn.memory.code
    if record is None or record.get("customer_id") != turn.desk.customer_id:
        return False
    if not code_matches(record, entered, datetime.now(UTC)):
        return False
    turn.desk.prove(Verification.CODE)
    return True
