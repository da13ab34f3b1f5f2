"""`parley eval translation` with the scripted model: directions, scores, and the cache."""

from __future__ import annotations

import json
from pathlib import Path

from bot.agent.models.calls import ChatModel
from evals.translation import run_translation_eval, samples
from tests.fakes import FakeChatModel, reply

QUESTIONS = [
    {"lang": "en", "group": "g000", "question": "How many points did the Panthers give up?"},
    {"lang": "de", "group": "g000", "question": "Wie viele Punkte gaben die Panthers ab?"},
    {"lang": "en", "group": "g001", "question": "How old was Manning in Super Bowl 50?"},
    {"lang": "de", "group": "g001", "question": "Wie alt war Manning beim Super Bowl 50?"},
    {"lang": "en", "group": "g002", "question": "Not chosen: one question per direction."},
    {"lang": "de", "group": "g002", "question": "Nicht gewählt."},
]


def _data(tmp_path: Path) -> Path:
    folder = tmp_path / "xquad_r"
    folder.mkdir()
    lines = (json.dumps(record, ensure_ascii=False) for record in QUESTIONS)
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_each_language_is_translated_into_english_and_back(tmp_path: Path) -> None:
    chosen = samples(_data(tmp_path), per_direction=2)

    assert [(s.direction, s.group) for s in chosen] == [
        ("de>en", "g000"),
        ("de>en", "g001"),
        ("en>de", "g000"),
        ("en>de", "g001"),
    ]
    assert chosen[0].reference == "How many points did the Panthers give up?"


def test_scores_per_direction_and_a_second_run_reads_the_cache(tmp_path: Path) -> None:
    data, out, cache = _data(tmp_path), tmp_path / "t.json", tmp_path / "cache"
    llm = FakeChatModel(
        script=[
            reply("How many points did the Panthers give up?"),  # exact
            reply("How old was Manning at Super Bowl 51?"),  # changed a number: refused
            reply("Wie viele Punkte gaben die Panthers ab?"),
            reply("Wie alt war Manning beim Super Bowl 50?"),
        ]
    )

    report = run_translation_eval(
        data, out, ChatModel(llm, 5.0), "scripted", per_direction=2, cache_dir=cache, echo=print
    )

    into, back = report["directions"]["de>en"], report["directions"]["en>de"]
    assert back["chrf"] == 100.0 and back["facts_kept"] == 1.0
    assert into["chrf"] < 100.0
    assert into["facts_kept"] == 0.5 and into["with_facts"] == 1
    assert into["facts_kept_where_present"] == 0.0
    assert into["outcomes"] == {"ok": 1, "dropped_token": 1}
    assert report["overall"]["messages"] == 4 and report["overall"]["seconds_p95"] is not None
    assert json.loads(out.read_text(encoding="utf-8")) == report

    silent = FakeChatModel(script=[])  # any call would fail the run
    again = run_translation_eval(
        data, out, ChatModel(silent, 5.0), "scripted", per_direction=2, cache_dir=cache, echo=print
    )
    assert again["directions"] == report["directions"] and silent.calls == []
