"""Questions a passage answers, written by the chat model at ingestion and mixed into the
passage's vector, so that a shopper's question meets questions rather than prose.

multilingual-e5-small is best at matching a text with its translation and weakest at matching a
question in one language with a statement in another. For each chunk the chat model writes up
to three short questions the chunk answers (in the chunk's language: the small model writes its
own language best); the chunk is then stored as `normalise(E(chunk) + QUESTION_WEIGHT ·
normalise(mean E(question)))`, and a shopper's question in any language lands nearer it. The
work is done once per chunk by a background job after indexing (searches see the plain vector
until then), never during a conversation, so a turn costs nothing more. Measured in
`QUESTION_WEIGHT`'s docstring.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from knowledge.chunking import embedding_text
from knowledge.documents import Chunk
from knowledge.embeddings import Vectors, normalise

QUESTION_PROMPT = (
    "Write three different short questions that the user's text answers, one per line. "
    "Reply with the questions only."
)
MAX_QUESTIONS = 3
MAX_TOKENS = 90
"""Three short questions fit; a model that starts answering instead is cut off early."""
MAX_TEXT_CHARS = 1500
"""A longer chunk is cut here for the prompt: its opening says what it is about."""
MIN_QUESTION_CHARS = 9
QUESTION_WEIGHT = 0.2
"""Weight of the questions' mean vector against the chunk's own (both unit length). On XQuAD-R's
English pool, with the local 1.5B model's questions for all 1,180 English passages (3,179 s
on two cores), R@5 was .903 without, .907 at .2, .898 at .3, .885 at .5, .860 at 1.0; scoring
max(chunk, question - .05) instead gave .900: a small gain, which is why the job is off."""
QUESTION_LIFT = 0.018
"""How much higher a shopper's question scores against a chunk with questions than against the
same chunk without (questions look like questions): +.0186 on the answering passage and +.0184
on the first, on XQuAD-R at weight .2. The index subtracts it from such a chunk's similarity,
so the confidence curve and the answer floors, fitted on chunks without questions, keep their
meaning."""
_NUMBERING = re.compile(r"^\s*(?:[-*•]+|\(?\d{1,2}[.):、]|[Qq]\d{0,2}[.:)])?\s*")


def question_key(chunk: Chunk, title: str) -> str:
    """Names a chunk by what gets embedded of it: questions are kept and found again by it."""
    return hashlib.sha256(embedding_text(chunk, title).encode("utf-8")).hexdigest()[:24]


def question_text(text: str, title: str = "", section: str = "") -> str:
    """What the model is asked about: the passage under its title and section."""
    context = " > ".join(dict.fromkeys(part for part in (title, section) if part))
    return f"{context}\n{text}" if context else text


def question_messages(text: str) -> list[BaseMessage]:
    """The prompt: a fixed instruction (the local model keeps it cached) and the passage."""
    return [SystemMessage(QUESTION_PROMPT), HumanMessage(text[:MAX_TEXT_CHARS])]


def parse_questions(reply: str) -> list[str]:
    """Up to `MAX_QUESTIONS` distinct questions from the model's reply, one per line, without
    list marks; lines too short to be a question, and headings ("Questions:"), are dropped."""
    found: list[str] = []
    for line in reply.splitlines():
        question = _NUMBERING.sub("", line, count=1).strip().strip('"“”«»')
        if question.endswith((":", "：")):
            continue
        if len(question) >= MIN_QUESTION_CHARS and question not in found:
            found.append(question)
    return found[:MAX_QUESTIONS]


def write_questions(llm: BaseChatModel, text: str) -> list[str]:
    """The questions `text` answers, by `llm` (blocking; callers run it in a thread)."""
    message = llm.invoke(question_messages(text), max_tokens=MAX_TOKENS)
    return parse_questions(str(message.content))


def question_vector(vectors: Vectors) -> Vectors:
    """One unit vector (1-d) for a chunk's questions: their normalised mean."""
    mean: Vectors = normalise(np.asarray(vectors, dtype=np.float32).mean(axis=0))
    return mean.reshape(-1)


def with_questions(
    passages: Vectors, questions: Vectors, weight: float = QUESTION_WEIGHT
) -> Vectors:
    """Chunk vectors with their questions' vectors (row for row, unit length) mixed in."""
    mixed = np.asarray(passages, dtype=np.float32) + weight * np.asarray(questions, np.float32)
    return normalise(mixed)


def mixed_rows(
    passages: Vectors, questions: Sequence[Vectors | None], weight: float = QUESTION_WEIGHT
) -> Vectors:
    """`with_questions` for the rows that have a question vector; the others stay as they are."""
    result = np.array(passages, dtype=np.float32, copy=True)
    for row, vector in enumerate(questions):
        if vector is not None and vector.size:
            result[row] = with_questions(result[row : row + 1], vector.reshape(1, -1), weight)[0]
    return result
