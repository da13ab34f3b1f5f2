"""FAQ tables (CSV) and FAQ JSON: one question/answer pair per section, columns mapped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from knowledge.documents import Section
from knowledge.errors import NeedsColumnMapping, UnreadableDocument

QUESTION_NAMES = {
    "question", "questions", "q", "frage", "fragen", "pregunta", "preguntas", "domanda",
    "vraag", "pergunta", "pytanie", "fråga", "spørgsmål", "spørsmål", "kysymys", "soru",
    "вопрос", "質問", "问题", "問題", "질문", "سؤال", "prompt", "ask", "faq", "title", "query",
    "questão", "otázka", "kérdés", "intrebare", "întrebare", "ερώτηση", "שאלה",
}  # fmt: skip
ANSWER_NAMES = {
    "answer", "answers", "a", "antwort", "antworten", "respuesta", "respuestas", "réponse",
    "reponse", "réponses", "risposta", "antwoord", "resposta", "odpowiedź", "svar", "vastaus",
    "cevap", "ответ", "回答", "答案", "答え", "답변", "إجابة", "جواب", "response", "reply", "text",
    "body", "content", "solution", "lösung", "odpověď", "válasz", "raspuns", "răspuns",
    "απάντηση", "תשובה",
}  # fmt: skip
CATEGORY_NAMES = {
    "category", "categories", "section", "topic", "group", "kategorie", "thema", "catégorie",
    "categorie", "rubrique", "categoría", "categoria", "tema", "sección", "onderwerp",
    "kategori", "категория", "カテゴリ", "分类", "类别", "topic/category",
}  # fmt: skip


def _norm(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower().rstrip(":").strip()


def map_columns(
    columns: list[str], mapping: Mapping[str, str] | None = None
) -> tuple[int, int, int | None]:
    """Indexes of the question, answer and (optional) category columns."""
    normalised = [_norm(column) for column in columns]
    if mapping:
        try:
            question = normalised.index(_norm(mapping["question"]))
            answer = normalised.index(_norm(mapping["answer"]))
        except (KeyError, ValueError):
            raise NeedsColumnMapping(
                f"the column mapping {dict(mapping)} does not match the file's columns "
                f"({', '.join(columns)})",
                columns,
            ) from None
        category: int | None = (
            normalised.index(_norm(mapping["category"]))
            if mapping.get("category") and _norm(mapping["category"]) in normalised
            else None
        )
        return question, answer, category

    def find(names: set[str]) -> int | None:
        for index, name in enumerate(normalised):
            if name in names:
                return index
        return None

    found_question, found_answer = find(QUESTION_NAMES), find(ANSWER_NAMES)
    if found_question is None or found_answer is None or found_question == found_answer:
        raise NeedsColumnMapping(
            "could not tell which columns hold the questions and the answers (columns: "
            f"{', '.join(columns)}); upload it again naming them, e.g. question_column="
            f"{columns[0]!r} and answer_column={columns[-1]!r}",
            columns,
        )
    return found_question, found_answer, find(CATEGORY_NAMES)


def csv_sections(text: str, mapping: Mapping[str, str] | None = None) -> list[Section]:
    """Rows of a FAQ table; broken quoting fails with the line number."""
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise UnreadableDocument(
            f"the CSV file is malformed near line {reader.line_num}: {error} "
            "(check the quotes around that row)"
        ) from error
    if not rows:
        raise UnreadableDocument("the CSV file has no rows")
    header = rows[0]
    try:
        question, answer, category = map_columns(header, mapping)
        body = rows[1:]
    except NeedsColumnMapping:
        if mapping or len(header) != 2 or not _questions_first(rows):
            raise
        # Two columns without a header, the first of them questions: that is a FAQ.
        question, answer, category = 0, 1, None
        body = rows
    width = len(header)
    sections: list[Section] = []
    for number, row in enumerate(body, 2):
        if len(row) != width and len(row) <= max(question, answer):
            raise UnreadableDocument(
                f"the CSV file is malformed: row {number} has {len(row)} cells, the header "
                f"{width} (check the quotes around that row)"
            )
        sections.extend(
            _pair(row[question], row[answer], row[category] if category is not None else None)
        )
    if not sections:
        raise UnreadableDocument("the CSV file has no question with an answer")
    return sections


def _delimiter(text: str) -> str:
    # The header row names the columns and rarely holds prose, so its separator is the one.
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {candidate: header.count(candidate) for candidate in (",", ";", "\t", "|")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _questions_first(rows: list[list[str]]) -> bool:
    marks = sum(1 for row in rows if row[0].strip().endswith(("?", "？", "؟")))
    return marks >= max(1, len(rows) // 2)


def json_sections(text: str, mapping: Mapping[str, str] | None = None) -> list[Section]:
    """FAQ JSON: a list of objects, `{"faq": [...]}`, a list of pairs or `{question: answer}`."""
    try:
        data: Any = json.loads(text)
    except ValueError as error:
        raise UnreadableDocument(f"the JSON file is damaged: {error}") from error
    if isinstance(data, dict):
        lists = [value for value in data.values() if isinstance(value, list)]
        if len(lists) == 1:
            data = lists[0]
        elif all(isinstance(value, str) for value in data.values()):
            data = [[key, value] for key, value in data.items()]
    if not isinstance(data, list) or not data:
        raise UnreadableDocument(
            "the JSON file is not a FAQ: expected a list of question/answer objects"
        )
    sections: list[Section] = []
    for item in data:
        if isinstance(item, list) and len(item) >= 2:
            sections.extend(_pair(str(item[0]), str(item[1]), None))
        elif isinstance(item, dict):
            keys = [str(key) for key in item]
            question, answer, category = map_columns(keys, mapping)
            values = list(item.values())
            sections.extend(
                _pair(
                    str(values[question]),
                    _answer_text(values[answer]),
                    str(values[category]) if category is not None else None,
                )
            )
        else:
            raise UnreadableDocument(
                "the JSON file is not a FAQ: expected a list of question/answer objects"
            )
    if not sections:
        raise UnreadableDocument("the JSON file has no question with an answer")
    return sections


def _answer_text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


def _pair(question: str, answer: str, category: str | None) -> list[Section]:
    question, answer = question.strip(), answer.strip()
    if not question or not answer:
        return []
    path = (category.strip(), question) if category and category.strip() else (question,)
    return [Section(path, f"{question}\n{answer}", faq=True)]
