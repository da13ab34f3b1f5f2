"""The unseen store's suite is well-formed data: split by its rule, and every order, customer
and document a case names exists. (Its figures come from `parley eval agent`, not from here.)"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.domain.orders import OrderStatus, catalog_from_tau2
from bot.tools.writes import WRITE_TOOLS as WRITE_TOOL_SPECS
from evals.agent_suite import Case, Suite, load_suite
from knowledge.loaders.docx import docx_sections
from knowledge.loaders.pdf import pdf_sections

ROOT = Path(__file__).parents[1] / "data" / "suites" / "unseen-store"
HALVES = ("dev", "test")
FORMATS = {".md", ".txt", ".html", ".pdf", ".docx", ".csv"}
OUTCOMES = {"answered", "needs_info", "confirm", "done", "handoff", "declined"}
INTENTS = {
    "faq",
    "order_status",
    "return",
    "exchange",
    "cancel",
    "modify_order",
    "dispute",
    "human",
    "greeting",
    "other",
}
WRITE_TOOLS = {"confirm_action", *WRITE_TOOL_SPECS}
"""Tools that change an order: the proposing ones and `confirm_action`, which executes."""
TOOLS = WRITE_TOOLS | {
    "find_user_id_by_email",
    "find_user_id_by_name_zip",
    "get_order_details",
    "open_dispute",
    "*",
}


def half_of(case_id: str) -> str:
    """The README's rule: the first hex digit of sha256(case id) even -> dev, odd -> test."""
    return "dev" if int(hashlib.sha256(case_id.encode()).hexdigest()[0], 16) % 2 == 0 else "test"


@pytest.fixture(scope="module")
def halves() -> dict[str, Suite]:
    return {name: load_suite(ROOT / name) for name in HALVES}


def every_case(halves: dict[str, Suite]) -> list[Case]:
    return [case for suite in halves.values() for case in suite.cases]


def test_each_case_sits_in_the_half_its_id_hashes_to(halves: dict[str, Suite]) -> None:
    for name, suite in halves.items():
        misplaced = [case.id for case in suite.cases if half_of(case.id) != name]
        assert not misplaced, f"in {name} but the rule says otherwise: {misplaced}"
    ids = [case.id for case in every_case(halves)]
    assert len(ids) == len(set(ids)), "a case id is in both halves"


def test_both_halves_share_the_same_store(halves: dict[str, Suite]) -> None:
    dev, test = halves["dev"], halves["test"]
    assert dev.documents == test.documents
    assert dev.orders == test.orders == (ROOT / "orders.json").resolve()
    assert all(path.is_file() for path in dev.documents)


def test_the_store_is_as_large_and_varied_as_the_issue_asks(halves: dict[str, Suite]) -> None:
    documents = halves["dev"].documents
    assert len(documents) >= 12
    assert len({path.suffix for path in documents} & FORMATS) >= 5
    cases = every_case(halves)
    assert sum(len(case.turns) for case in cases) >= 200
    assert len({case.language for case in cases}) >= 20


def test_expectations_use_only_contract_values(halves: dict[str, Suite]) -> None:
    names = {path.name for path in halves["dev"].documents}
    for case in every_case(halves):
        for turn in case.turns:
            expect = turn.expect
            assert set(expect.outcome) <= OUTCOMES, case.id
            assert set(expect.intent) <= INTENTS, case.id
            assert set(expect.tools) | set(expect.not_tools) <= TOOLS, case.id
            assert expect.citation in (None, "", *names), case.id


def test_every_order_and_customer_a_case_names_exists(halves: dict[str, Suite]) -> None:
    raw = json.loads((ROOT / "orders.json").read_text(encoding="utf-8"))
    catalog = catalog_from_tau2(raw)
    emails = {customer.email for customer in catalog.users.values()}
    statuses = {status.value for status in OrderStatus}
    for case in every_case(halves):
        for order_id, status in case.orders_after.items():
            assert order_id in catalog.orders, case.id
            assert status in statuses, case.id
        for turn in case.turns:
            for number in re.findall(r"W\d{7}", turn.message):
                assert f"#{number}" in catalog.orders, f"{case.id}: {number}"
            for email in re.findall(r"[\w.+-]+@example\.com", turn.message):
                assert email in emails, f"{case.id}: {email}"


def test_a_case_that_writes_runs_in_a_store_of_its_own(halves: dict[str, Suite]) -> None:
    for case in every_case(halves):
        writes = any(
            set(turn.expect.tools) & (WRITE_TOOLS | {"open_dispute"}) for turn in case.turns
        )
        if writes:
            assert case.fresh_store, case.id


def test_every_category_has_cases_in_both_halves(halves: dict[str, Suite]) -> None:
    counts = {
        name: Counter(case.category for case in suite.cases) for name, suite in halves.items()
    }
    core = {"faq_same", "faq_cross", "unanswerable", "order_status", "return_confirm", "cancel"}
    for name, seen in counts.items():
        assert core <= set(seen), f"{name} lacks {core - set(seen)}"


def document_text(path: Path) -> str:
    """What a reader sees in the document: generated files through Parley's own loaders."""
    if path.suffix == ".pdf":
        title, sections, _ = pdf_sections(path.read_bytes())
    elif path.suffix == ".docx":
        title, sections = docx_sections(path.read_bytes())
    else:
        return path.read_text(encoding="utf-8")
    return "\n".join([title or "", *(section.text for section in sections)])


def test_every_fact_is_written_where_the_answer_comes_from(halves: dict[str, Suite]) -> None:
    """A cited turn's facts are in that document as written; other facts are in the orders
    or in what the shopper wrote (a new address)."""
    texts = {path.name: document_text(path) for path in halves["dev"].documents}
    orders = (ROOT / "orders.json").read_text(encoding="utf-8")
    for case in every_case(halves):
        said = " ".join(turn.message for turn in case.turns)
        for turn in case.turns:
            source = texts[turn.expect.citation] if turn.expect.citation else orders + said
            missing = [fact for fact in turn.expect.facts if fact not in source]
            assert not missing, f"{case.id}: {missing}"
