"""A write the shopper must confirm: the bot proposes it (the tool keeps it pending), the
shopper's yes carries it out, their no keeps the order as it is. The yes counts only from the
shopper the proposal was made to, verified in a way the store accepts for writes: the write
tools check that (`ToolContext.require_write`); when they refuse, a one-time code to the
account's email comes first."""

from __future__ import annotations

from typing import Any

from bot.agent.flows.identity import ask_for_code
from bot.agent.intents import Intent
from bot.agent.replies import describe_action, refusal, refused_because, say
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.errors import ParleyError
from bot.domain.policy import StrongerVerificationNeeded


async def propose(
    turn: Turn, intent: Intent, memory: Memory, tool: str, arguments: dict[str, Any]
) -> Decision:
    """Ask the write tool for a pending action and ask the shopper to confirm it."""
    action = await turn.tool(tool, arguments)
    turn.mark_proposed()
    memory.awaiting = "confirm"
    memory.action_id = action["action_id"]
    memory.proposed_to = turn.desk.customer_id
    # Confirmed, and later reported done, in the shopper's language; the English
    # summary stays with the pending action for the audit log and the console.
    memory.summary = describe_action(turn.language, action["details"])
    reply = say(turn.language, "confirm", summary=memory.summary)
    result = turn.result(reply, intent, Outcome.CONFIRM, action=action, confidence=1.0)
    return result, memory


async def confirm(turn: Turn, accept: bool) -> Decision:
    """Carry out the proposed action on the shopper's yes; keep things as they are on no."""
    memory = turn.memory
    action_id = memory.action_id
    assert action_id is not None
    intent = memory.intent or "other"
    after = Memory(order_id=memory.order_id)
    if not accept:
        return turn.result(say(turn.language, "kept"), intent, Outcome.ANSWERED), after
    proposed_to = memory.proposed_to
    if proposed_to is not None and proposed_to != turn.desk.customer_id:
        # A yes confirms only what was proposed to this verified shopper.
        reply = refused_because(turn.language, "already_verified")
        return turn.result(reply, intent, Outcome.DECLINED), after
    waiting = Memory(
        intent=memory.intent,
        order_id=memory.order_id,
        action_id=action_id,
        summary=memory.summary,
        proposed_to=proposed_to,
    )
    if not turn.policy.allows_write(turn.verified_by):
        # The write tools would refuse this yes (the same policy rule, on the same record of
        # how the shopper verified): ask for the one-time code rather than be refused.
        return await ask_for_code(turn, Intent(intent), waiting)
    try:
        await turn.tool("confirm_action", {"action_id": action_id})
    except StrongerVerificationNeeded:
        # The tools' own check: the action waits, unclaimed, for the one-time code.
        return await ask_for_code(turn, Intent(intent), waiting)
    except ParleyError as error:
        return turn.result(refusal(turn.language, error), intent, Outcome.DECLINED), after
    summary = memory.summary or ""
    return turn.result(say(turn.language, "done", summary=summary), intent, Outcome.DONE), after
