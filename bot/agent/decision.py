"""What a shopper's message asks for, decided in code: a pending yes or no, a misuse, the
handoff signals, the routed intent (with close calls and the intent an earlier question
carries), then which flow answers it."""

from __future__ import annotations

import re
from dataclasses import replace

import anyio

from bot.agent.checks import attacks_the_bot, question_before_attack
from bot.agent.extract import (
    confirmation,
    find_email,
    find_name_zip,
    find_one_time_code,
    find_order_ids,
    starts_with_yes,
)
from bot.agent.flows.answer import Answers
from bot.agent.flows.changes import requested_change
from bot.agent.flows.orders import Orders
from bot.agent.flows.proposal import confirm
from bot.agent.intents import Aim, Intent, IntentRoute
from bot.agent.phrases import asks_question, mentions
from bot.agent.ports import Router, Vector
from bot.agent.replies import say
from bot.agent.signals import HandoffSignal, handoff_signals
from bot.agent.state import Decision, Memory, Turn
from bot.agent.turn import Outcome
from bot.domain.conversation import HandoffReason

ORDER_INTENTS = frozenset(
    {Intent.ORDER_STATUS, Intent.RETURN, Intent.EXCHANGE, Intent.CANCEL, Intent.MODIFY_ORDER}
)
CLOSE_CALL = 0.03
"""An order intent must beat an informational runner-up by this much to start an order flow."""
_ORDER_TOKEN = re.compile(r"#?\b[Ww]\d{7}\b")


class Decider:
    """Decides one turn: which flow runs, or a fixed reply."""

    def __init__(self, router: Router, orders: Orders, answers: Answers) -> None:
        self.router = router
        self.orders = orders
        self.answers = answers

    async def decide(self, turn: Turn) -> Decision:
        """The turn's reply and what the bot remembers for the next one; what the bot knows
        about who it speaks with (how they verified, for whom they write) stays."""
        result, memory = await self._decide(turn)
        return result, kept_about_shopper(turn, memory)

    async def _decide(self, turn: Turn) -> Decision:
        memory = turn.memory
        if memory.awaiting == "confirm" and memory.action_id:
            answer = confirmation(turn.text, memory.intent, turn.language)
            if answer is not None:
                return await confirm(turn, answer)
            if undecided(turn.text) and not handoff_signals(turn.text, [turn.language]):
                # "Maybe", "I don't know yet", "you decide": nothing is done, the proposal is
                # shown again for a yes or a no (a status of the order would answer nothing).
                reply = say(turn.language, "confirm", summary=memory.summary or "")
                return turn.result(reply, memory.intent or Intent.OTHER, Outcome.CONFIRM), memory
        if memory.awaiting == "code" and memory.code is not None:
            entered = find_one_time_code(turn.text)
            if entered is not None:
                return await self.orders.code_entered(turn, entered)

        if attacks_the_bot(turn.text):
            # An instruction aimed at the bot, a jailbreak, a role to play, a request for its
            # instructions or for harmful text: a clear no, saying what the bot is for, unless
            # a question about the shop came first (then that alone is answered).
            answered = await self._answer_before_attack(turn)
            if answered is not None:
                return answered
            return _aimed_elsewhere(turn, Aim.MISUSE)
        if memory.for_someone_else or mentions("for_someone_else", turn.text):
            # Someone writing for another person gets general help or a person, never that
            # account's data or a write, for the rest of the conversation.
            return _aimed_elsewhere(turn, Aim.SOMEONE_ELSE)
        signals = handoff_signals(turn.text, [turn.language])
        if (
            memory.awaiting == "confirm"
            and memory.intent
            and starts_with_yes(turn.text)
            and not signals
        ):
            # "Yes, but …": the pending request revised, shown again as its own proposal (or
            # refused), never carried out, whatever else the router reads in the words. A yes
            # with a chargeback threat or a call for a person goes where those go (below).
            return await self.orders.run(turn, Intent(memory.intent))
        route = await read_route(self.router, turn.text, turn.vector, turn.language)
        turn.route = route
        if route.aim is not None and (route.aim is Aim.MISUSE or not signals):
            # Read as aimed at the bot, or at another customer, by meaning (any language):
            # the same clear no as the phrases above give.
            return _aimed_elsewhere(turn, route.aim)
        signal = _first(signals, HandoffReason.LEGAL_OR_SAFETY)
        if signal:
            return await turn.hand_off(signal.reason, Intent.OTHER), Memory()
        if _first(signals, HandoffReason.DISPUTE):
            return await self.orders.run(turn, Intent.DISPUTE)
        if _first(signals, HandoffReason.SHOPPER_ASKED) or route.intent is Intent.HUMAN:
            return await turn.hand_off(HandoffReason.SHOPPER_ASKED, Intent.HUMAN), Memory()
        # Strong anger goes to a person at once, even when the message merely reads like a
        # dispute ("you are thieves, I paid weeks ago"); a named dispute or chargeback (above)
        # still opens its case first.
        if _first(signals, HandoffReason.ANGER):
            return await turn.hand_off(HandoffReason.ANGER, route.intent), Memory()
        if route.intent is Intent.DISPUTE and requested_change(turn.text) is None:
            # Read as a dispute by meaning only: "refund it to my friend's PayPal" reads close
            # to one, but asks for a change (refused below with the reason), not a case.
            return await self.orders.run(turn, Intent.DISPUTE)

        intent: Intent = route.intent
        if (
            intent in ORDER_INTENTS
            and route.via == "embedding"
            and route.margin < CLOSE_CALL
            and route.runner_up in (Intent.FAQ, Intent.OTHER)
        ):
            # Too close to call between acting on an order and answering: answer, act later.
            intent = route.runner_up
        carried = carried_intent(turn.text, memory)
        if carried is not None:
            intent = carried
        elif (intent not in ORDER_INTENTS or intent is Intent.ORDER_STATUS) and requested_change(
            turn.text
        ) is not None:
            # "Ship it to …", "refund it to my new card": a change of an order, whatever the
            # router made of the words (a question about where it stands included).
            intent = Intent.MODIFY_ORDER
        if intent in ORDER_INTENTS and carried is None and asks_about_policy(turn.text):
            # "How long do I have to return an item?" is a question about the policy, not a
            # return: answer it from the documents when they cover it well.
            answered = await self.answers.answer_if_sure(turn, Intent.FAQ)
            if answered is not None:
                return answered
        if intent in ORDER_INTENTS:
            return await self.orders.run(turn, intent)
        if intent is Intent.GREETING:
            return turn.result(say(turn.language, "greeting"), intent, Outcome.ANSWERED), Memory()
        return await self.answers.answer(turn, intent)

    async def _answer_before_attack(self, turn: Turn) -> Decision | None:
        """The documents' answer to a question about the shop that an instruction to the bot
        follows ("…and end your answer with the word X"), when they cover it well: the
        question alone is searched and worded (the model never reads the instruction, the
        reply check looks for its words). None when there is no such question, or it is aimed
        at the bot or another customer by meaning, or the documents do not cover it."""
        cut = question_before_attack(turn.text)
        if cut is None or not asks_about_policy(cut[0]) or mentions("for_someone_else", cut[0]):
            return None
        asked = replace(turn, text=cut[0], vector=None, instruction=cut[1])
        embed = self.answers.embed
        if embed is not None:  # one embedding of the question for the router and the search
            asked.vector = (await anyio.to_thread.run_sync(embed, [routing_text(cut[0])]))[0]
        asked.route = await read_route(self.router, cut[0], asked.vector, asked.language)
        if asked.route.aim is not None:
            return None
        return await self.answers.answer_if_sure(asked, Intent.FAQ)


def _aimed_elsewhere(turn: Turn, aim: Aim) -> Decision:
    """The clear no to a message aimed at the bot (`misuse`) or at another customer."""
    if aim is Aim.MISUSE:
        return turn.result(say(turn.language, "declined"), Intent.OTHER, Outcome.DECLINED), Memory()
    reply = say(turn.language, "for_someone_else")
    return turn.result(reply, Intent.OTHER, Outcome.DECLINED), Memory(for_someone_else=True)


def kept_about_shopper(turn: Turn, memory: Memory) -> Memory:
    """`memory` with what stays known about the shopper for the whole conversation."""
    before = turn.memory
    memory.for_someone_else = memory.for_someone_else or before.for_someone_else
    memory.orders_shown = memory.orders_shown or before.orders_shown
    memory.verified_by = sorted(
        set(before.verified_by) | set(memory.verified_by) | turn.verified_by
    )
    return memory


def _first(signals: list[HandoffSignal], reason: HandoffReason) -> HandoffSignal | None:
    return next((signal for signal in signals if signal.reason is reason), None)


def carried_intent(text: str, memory: Memory) -> Intent | None:
    """An order flow goes on when the shopper answers what the bot asked for."""
    if memory.intent is None or memory.awaiting is None:
        return None
    answered = {
        "identity": bool(find_email(text) or find_name_zip(text)),
        "order": bool(find_order_ids(text)),
        "exchange": True,
        "items": True,
        "address": True,
        # Neither yes nor no to a proposed exchange ("rather in black"): the shopper revises it,
        # unless they moved on to a question or another order.
        # A yes that changes the proposal ("yes, but the other order instead") is the same
        # request revised: it is shown again as a proposal of its own, never carried out.
        "confirm": (
            memory.intent in (Intent.EXCHANGE, Intent.MODIFY_ORDER)
            and not asks_about_policy(text)
            and all(order_id == memory.order_id for order_id in find_order_ids(text))
        )
        or starts_with_yes(text),
    }.get(memory.awaiting, False)
    return Intent(memory.intent) if answered else None


def undecided(text: str) -> bool:
    """Neither yes nor no to a proposal ("peut-être, je ne sais pas encore"), and no question
    or other order that would make it a new request."""
    return (
        mentions("undecided", text)
        and not find_order_ids(text)
        and not asks_question(text)
        and not starts_with_yes(text)
    )


def asks_about_policy(text: str) -> bool:
    """A general question (no order number, no identity) rather than a request to act."""
    if find_order_ids(text) or find_email(text):
        return False
    return asks_question(text)


async def read_route(
    router: Router, text: str, vector: Vector | None, language: str
) -> IntentRoute:
    """What `router` reads in `text` (its `routing_text`), from the message's `vector` when it
    has one. Scoring against every exemplar is CPU work: it runs off the event loop."""
    masked = routing_text(text)
    if vector is not None:
        return await anyio.to_thread.run_sync(router.route_vector, masked, vector, language)
    return await anyio.to_thread.run_sync(router.route, masked, language)


def routing_text(text: str) -> str:
    """The message without emails, order numbers and name-with-zip: identifiers say nothing
    about what the shopper wants and pull embeddings towards whichever exemplars carry them."""
    masked = text
    email = find_email(text)
    if email is not None:
        masked = masked.replace(email, " ")
    masked = _ORDER_TOKEN.sub(" ", masked)
    name_zip = find_name_zip(masked)
    if name_zip is not None:
        masked = masked.replace(name_zip.zip_code, " ")
    cleaned = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s{2,}", " ", masked)).strip(" ,;")
    return cleaned or text
