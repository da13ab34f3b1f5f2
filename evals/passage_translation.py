"""Passage sentences and shopper messages translated by the engine, prompt against prompt.

A small fixed set (`passage_translation.json`, written for this check): shop-policy sentences
with deadlines, amounts, addresses and codes, from several languages into others, and a few
shopper questions into English as the agent console translates them. For each prompt: the share
the model wrote in the target language (the project's language identifier reads it), the share
that passed the engine's fact check (sent), and seconds per message.

    PYTHONPATH=$PWD python -m evals.passage_translation --llm local --prompt system --prompt current
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.agent.facts import asks_back
from bot.agent.language import LanguageIdentifier
from bot.agent.models import translator
from bot.agent.models.calls import ChatModel
from bot.agent.prompts import language_name
from bot.domain.translation import Outcome

_QUESTION = re.compile("[?？؟]")
CASES = Path(__file__).with_name("passage_translation.json")

_SYSTEM_ONLY = (
    "You are a translator. Translate the user's message{source} into {target}. The message "
    "may be a question: translate it as a question, never answer it. Copy numbers, prices "
    "with their currency, e-mail addresses, links, order numbers and product codes exactly as "
    "written. Reply with the translation only."
)


def _system_only(text: str, source: str | None, target: str) -> list[BaseMessage]:
    """The prompt before issue 19: the instruction as the system turn, the text as the user's."""
    named = f" from {language_name(source)}" if source else ""
    return [
        SystemMessage(_SYSTEM_ONLY.format(source=named, target=language_name(target))),
        HumanMessage(text),
    ]


_NEVER_ANSWER = (
    "Translate this {source}text into {target}. It may be a question: translate it as a "
    "question, never answer it. Copy numbers, prices with their currency, e-mail addresses, "
    "links, order numbers and product codes exactly as written. Reply with the {target} "
    "translation only.\n\n{label}: {text}\n{target}:"
)


def _never_answer(text: str, source: str | None, target: str) -> list[BaseMessage]:
    """The user-turn prompt with a sentence about questions (tried for issue 19)."""
    named = language_name(source) if source else ""
    return [
        HumanMessage(
            _NEVER_ANSWER.format(
                source=f"{named} " if named else "",
                label=named or "Text",
                target=language_name(target),
                text=text,
            )
        )
    ]


PROMPTS: dict[str, Callable[[str, str | None, str], list[BaseMessage]]] = {
    "system": _system_only,
    "never-answer": _never_answer,
    "current": translator.translation_messages,
    "retrying": translator.translation_messages,
}
RETRYING = "retrying"
"""The current prompt, with passages translated as the answer flow translates quoted sentences
(`translate_passage`: a refused first try is tried once more)."""


def _as_a_statement(text: str) -> Callable[[str], str | None]:
    """The answer flow's own refusal: a statement translated into a question."""

    def check(written: str) -> str | None:
        return "it asks a question" if asks_back(written, [text]) else None

    return check


def measure(
    model: ChatModel,
    prompts: Sequence[str],
    echo: Callable[[str], None],
    *,
    limit: int | None = None,
    shopper_only: bool = False,
) -> dict[str, dict[str, Any]]:
    """Translate every case with each prompt in turn (so both meet the same machine load) and
    score each prompt."""
    cases = json.loads(CASES.read_text(encoding="utf-8"))
    cases = [case for case in cases if case.get("shopper") or not shopper_only][:limit]
    identify = LanguageIdentifier.preferring()
    rows: dict[str, list[dict[str, Any]]] = {prompt: [] for prompt in prompts}
    original = translator.translation_messages
    try:
        for case in cases:
            for prompt in prompts:
                translator.__dict__["translation_messages"] = PROMPTS[prompt]
                began = time.perf_counter()
                if prompt == RETRYING and not case.get("shopper"):
                    result = anyio.run(
                        translator.translate_passage,
                        model,
                        case["text"],
                        case["source"],
                        case["target"],
                        _as_a_statement(case["text"]),
                    )
                else:
                    result = anyio.run(
                        translator.translate, model, case["text"], case["source"], case["target"]
                    )
                seconds = time.perf_counter() - began
                written = result.candidate or ""
                language = identify.detect(written).code if written else None
                rows[prompt].append(
                    {
                        **case,
                        "written": written,
                        "language": language,
                        "outcome": result.outcome.value,
                        "seconds": round(seconds, 2),
                    }
                )
                echo(
                    f"{prompt:<8}{case['source']}>{case['target']} {language or '-':<3}"
                    f"{result.outcome.value:<14}{seconds:5.1f}s  {written[:90]!r}"
                )
    finally:
        translator.__dict__["translation_messages"] = original
    return {
        prompt: {"prompt": prompt, **_score(made), "rows": made} for prompt, made in rows.items()
    }


def _score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def share(part: list[dict[str, Any]]) -> dict[str, Any]:
        if not part:
            return {"cases": 0}
        right = sum(1 for row in part if row["language"] == row["target"])
        sent = sum(
            1
            for row in part
            if row["language"] == row["target"] and row["outcome"] == Outcome.OK.value
        )
        # A statement that comes back as a question is the model asking or answering instead
        # of translating, whatever its language.
        asked = sum(
            1
            for row in part
            if _QUESTION.search(row["written"]) and not _QUESTION.search(row["text"])
        )
        seconds = sorted(row["seconds"] for row in part)
        return {
            "cases": len(part),
            "target_language": round(right / len(part), 3),
            "sent_in_target_language": round(sent / len(part), 3),
            "question_for_a_statement": round(asked / len(part), 3),
            "seconds_p50": seconds[len(seconds) // 2],
        }

    return {
        "all": share(rows),
        "passages": share([row for row in rows if not row.get("shopper")]),
        "shopper": share([row for row in rows if row.get("shopper")]),
    }


def main() -> None:
    """Measure each prompt named on the command line and write the figures as JSON."""
    from bot.settings import Settings
    from bot.wiring import chat_model

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--llm", default="local")
    parser.add_argument("--prompt", action="append", choices=sorted(PROMPTS), required=True)
    parser.add_argument("--out", type=Path, default=Path("passage_translation.json"))
    parser.add_argument("--limit", type=int, default=None, help="Only the first N cases.")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="Seconds per translation (a loaded machine)."
    )
    parser.add_argument("--shopper-only", action="store_true", help="Only shopper messages.")
    arguments = parser.parse_args()
    model = ChatModel(chat_model(arguments.llm, Settings()), arguments.timeout)
    report = measure(
        model,
        arguments.prompt,
        lambda line: print(line, flush=True),
        limit=arguments.limit,
        shopper_only=arguments.shopper_only,
    )
    for figures in report.values():
        print(prompt_line(figures))
    arguments.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")


def prompt_line(figures: dict[str, Any]) -> str:
    """One line of figures for a prompt."""
    return f"{figures['prompt']:<8}" + "  ".join(
        f"{part}: lang {f['target_language']:.2f} sent {f['sent_in_target_language']:.2f} "
        f"asked {f['question_for_a_statement']:.2f} "
        f"p50 {f['seconds_p50']:.1f}s (n={f['cases']})"
        for part, f in ((k, figures[k]) for k in ("all", "passages", "shopper"))
        if f["cases"]
    )


if __name__ == "__main__":
    main()
