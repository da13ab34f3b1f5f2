"""The fact that answers a question: what the question asks for (`asked`), what a sentence
states (`stated`), whether a reply says their opposite (`polarity`) or turns their deadline into
a delay (`deadlines`), which sentences of the cited passage answer (`sentences`), and a reply's
figures written as those sentences write them (`notation`)."""

from bot.agent.facts.asked import Asked, asked_for
from bot.agent.facts.deadlines import turns_deadline_into_delay
from bot.agent.facts.notation import written_as_stated
from bot.agent.facts.polarity import contradicts, denies
from bot.agent.facts.sentences import (
    AnsweringSentences,
    answering_sentences,
    split_sentences,
    without_instructions,
)
from bot.agent.facts.stated import asks_back, carries_the_answer, states

__all__ = [
    "AnsweringSentences",
    "Asked",
    "answering_sentences",
    "asked_for",
    "asks_back",
    "carries_the_answer",
    "contradicts",
    "denies",
    "split_sentences",
    "states",
    "turns_deadline_into_delay",
    "without_instructions",
    "written_as_stated",
]
