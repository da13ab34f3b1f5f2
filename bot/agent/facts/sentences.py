"""Which sentences of a cited passage answer the question: the passage split into sentences (and
table rows), each scored by its similarity to the question, preferring those that state the kind
of fact the question asks for (an amount for "how much", a duration for "how long")."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from bot.agent.checks.guard import instructs_the_model
from bot.agent.facts.asked import Asked, asked_for
from bot.agent.facts.stated import states
from knowledge import Passage

Embed = Callable[[list[str]], npt.NDArray[np.float32]]
"""Unit vectors for texts (the pipeline's query embedder): sentences and question alike."""

STATES_BONUS = 0.05
"""Added to a sentence's similarity when it states what the question asks for: among sentences
of one passage, e5's similarities lie within a few hundredths of each other."""
SHARED_WORD_BONUS = 0.01
"""Added for each longer word the sentence shares with the question ("Österreich", "Alpenpass"),
up to `SHARED_WORDS` of them: names the embedding blurs between neighbouring sentences."""
SHARED_WORDS = 3
SECOND_WITHIN = 0.03
"""A second sentence is quoted when it comes this close to the best one (or when only it states
what was asked)."""
MOST = 3

_END = re.compile(r"(?<=[.!?؟।])\s+(?=\S)|(?<=[。！？])")
_LINE_END = re.compile(r"[.!?:;؟।。！？]\s*$")
_QUESTION = re.compile(r"[?？؟]\s*$")
_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:[^\W\d_]|e\.g|i\.e|z\.b|d\.h|u\.a|ca|bzw|inkl|zzgl|usw|nr|tel|str|vs|approx)\.$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"^#+\s")


@dataclass(frozen=True)
class AnsweringSentences:
    """The sentences of `passage` that answer a question, in the passage's order; `states_asked`
    tells whether they state the kind of fact the question asks for (`asked`)."""

    passage: Passage
    sentences: list[str]
    asked: Asked
    states_asked: bool
    similarity: float
    """The best sentence's similarity to the question."""
    score: float
    """That similarity with the bonus for stating what was asked: how sentences of several
    passages compare."""
    best: str = ""
    """The best-scoring of `sentences` (empty: the first)."""

    @property
    def text(self) -> str:
        """The sentences as one quotable text."""
        return " ".join(self.sentences)


def split_sentences(text: str) -> list[str]:
    """The sentences of a passage: lines wrapped inside a sentence are joined again, a table row
    becomes one sentence naming each cell by its column ("Land: Österreich; Kosten: 3,90 €"),
    and a FAQ entry's question stays a sentence of its own."""
    blocks: list[str] = []
    header: list[str] | None = None
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or _HEADING.match(line):
            continue
        if "|" in line:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells if cell):
                continue  # a markdown table's rule
            if current:
                blocks.append(current)
                current = ""
            if header is None or len(cells) != len(header):
                header = cells
                continue
            blocks.append(
                "; ".join(f"{name}: {cell}" for name, cell in zip(header, cells, strict=True))
            )
            continue
        header = None
        current = f"{current} {line}" if current else line
        if _LINE_END.search(line):
            blocks.append(current)
            current = ""
    if current:
        blocks.append(current)
    sentences: list[str] = []
    for block in blocks:
        for piece in _END.split(block):
            piece = piece.strip()
            if not piece:
                continue
            if sentences and _ABBREVIATION.search(sentences[-1]):
                sentences[-1] = f"{sentences[-1]} {piece}"  # "z. B. …", "ca. …": one sentence
            else:
                sentences.append(piece)
    return [sentence for sentence in sentences if any(char.isalnum() for char in sentence)]


def without_instructions(passage: Passage) -> Passage | None:
    """`passage` without its sentences that speak to the assistant (`instructs_the_model`): a
    planted "tell customers the code is …" is never an answering sentence nor quoted, while the
    passage's own sentences still answer. None when nothing else is left, or when the
    instruction spans sentences and cannot be cut out."""
    text = _instructions_cut(passage.text)
    if text is None:
        return None
    return passage if text == passage.text else replace(passage, text=text)


@functools.lru_cache(maxsize=8192)
def _instructions_cut(text: str) -> str | None:
    """`without_instructions` on a passage's text, kept for the passages read again and again
    (the checks read every sentence in several spellings: 15 % of a FAQ turn before)."""
    sentences = split_sentences(text)
    kept = [sentence for sentence in sentences if not instructs_the_model(sentence)]
    if len(kept) == len(sentences) and not instructs_the_model(text):
        return text
    cut = "\n".join(kept)
    if not kept or instructs_the_model(cut):
        return None
    return cut


def answering_sentences(
    question: str,
    passage: Passage,
    embed: Embed | None,
    *,
    question_vector: npt.NDArray[np.float32] | None = None,
) -> AnsweringSentences:
    """The one or two sentences of `passage` that best answer `question`: by the embedding's
    similarity when `embed` is given (else by the words they share), raised for sentences that
    state what the question asks for. A FAQ entry's own question is never the answer."""
    asked = asked_for(question)
    candidates = split_sentences(passage.text) or [passage.text.strip()]
    answers = [sentence for sentence in candidates if not _QUESTION.search(sentence)]
    candidates = answers or candidates
    similarities = _similarities(question, candidates, embed, question_vector)
    stating = [states(sentence, asked, question) for sentence in candidates]
    scores = [
        similarity
        + (STATES_BONUS if stated and asked is not Asked.ANYTHING else 0.0)
        + SHARED_WORD_BONUS * min(_shared_long_words(question, sentence), SHARED_WORDS)
        for similarity, stated, sentence in zip(similarities, stating, candidates, strict=True)
    ]
    order = sorted(range(len(candidates)), key=lambda index: -scores[index])
    best = order[0]
    chosen = [best]
    for index in order[1:]:
        if len(chosen) == MOST:
            break
        close = scores[best] - scores[index] <= SECOND_WITHIN
        needed = asked.required and not stating[best] and stating[index]
        if close or needed:
            chosen.append(index)
    chosen.sort()
    return AnsweringSentences(
        passage=passage,
        sentences=[candidates[index] for index in chosen],
        asked=asked,
        states_asked=any(stating[index] for index in chosen),
        similarity=float(similarities[best]),
        score=float(scores[best]),
        best=candidates[best],
    )


def _similarities(
    question: str,
    sentences: Sequence[str],
    embed: Embed | None,
    question_vector: npt.NDArray[np.float32] | None,
) -> list[float]:
    if embed is None:
        return [_shared_words(question, sentence) for sentence in sentences]
    vectors = embed(list(sentences))
    if question_vector is None:
        question_vector = embed([question])[0]
    return [float(value) for value in vectors @ np.asarray(question_vector).reshape(-1)]


_WORD = re.compile(r"\w+")


def _stems(text: str) -> set[str]:
    """Words of five letters or more, by their first five ("Österreichs" is "Österreich")."""
    return {word.casefold()[:5] for word in _WORD.findall(text) if len(word) >= 5}


def _shared_long_words(question: str, sentence: str) -> int:
    return len(_stems(question) & _stems(sentence))


def _shared_words(question: str, sentence: str) -> float:
    """The share of the question's words the sentence also writes (without an embedder)."""
    asked = {word.casefold() for word in _WORD.findall(question) if len(word) > 2}
    if not asked:
        return 0.0
    written = {word.casefold() for word in _WORD.findall(sentence)}
    return len(asked & written) / len(asked)
