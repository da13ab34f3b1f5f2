"""Shoppers chat live in the storefront widget: streamed answers with citations, a thread that
survives a reload, an order cancelled on a confirmation card, a person who takes over, the
widget offline and back, and Arabic laid out right to left."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, expect
from websockets.sync.client import ClientConnection, connect

from bot.demo.seed import DEMO_ADMIN, DEMO_AGENTS
from tests.browser.conftest import SCRIPTED_ANSWER
from tests.browser.shopper import Shopper

pytestmark = pytest.mark.browser

# The first answer may wait for the embedding models the server loads on first use.
FIRST_ANSWER_MS = 180_000
ANSWER_MS = 60_000
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def japanese_shopper(server: str, browser: Browser) -> Iterator[Shopper]:
    """A shopper whose browser speaks Japanese, with the chat open."""
    shopper = Shopper.visit(browser, server, locale="ja-JP")
    shopper.open_chat()
    expect(shopper.chat.locator("#title")).to_have_text("チャットでお問い合わせ")
    yield shopper
    shopper.close()


def test_a_japanese_question_streams_a_japanese_answer_with_a_citation(
    japanese_shopper: Shopper,
) -> None:
    shopper = japanese_shopper
    shopper.write("返品は何日以内にできますか？")

    answer = shopper.bot_replies().last
    expect(answer).to_contain_text("30日以内", timeout=FIRST_ANSWER_MS)
    stored = [f for f in shopper.frames_of("message") if f["role"] == "bot"][-1]
    assert stored["language"] == "ja"
    assert JAPANESE.search(stored["text"])
    # Streamed: token frames came before the stored reply, and the draft bubble showed them.
    first_token = next(i for i, f in enumerate(shopper.received) if f["type"] == "token")
    assert first_token < shopper.received.index(stored)
    drafts = shopper.drafts()
    assert drafts, "no draft bubble was shown while the reply streamed"
    assert stored["text"].startswith(drafts[-1][:20])
    # The stored reply replaced the draft: one bubble, the stored text; the question shows once.
    expect(shopper.chat.locator("li.draft")).to_have_count(0)
    expect(shopper.chat.locator("li.msg.shopper")).to_have_count(1)
    expect(shopper.chat.locator("li.pending")).to_have_count(0)
    expect(answer.locator(".text")).to_have_text(stored["text"])

    # The citation opens to its document, section and quoted passage.
    assert stored["citations"], "the answer has no citation"
    citation = stored["citations"][0]
    answer.locator("details.sources > summary").click()
    shopper.screenshot("ja-answer.png")
    source = answer.locator("details.source").first
    expect(source.locator("summary")).to_contain_text(citation["document"])
    expect(source.locator("summary")).to_contain_text(citation["section"])
    source.locator("summary").click()
    expect(source.locator("blockquote")).to_contain_text("30日以内")
    shopper.screenshot("ja-answer-passage.png")


def test_a_model_answer_streams_into_the_draft_bubble(
    scripted_server: str, browser: Browser
) -> None:
    # Behind this server the pipeline asks a scripted chat model, which streams SCRIPTED_ANSWER
    # sentence by sentence: the shopper watches the reply grow, then the stored reply replaces it.
    shopper = Shopper.visit(browser, scripted_server, locale="ja-JP")
    try:
        shopper.open_chat()
        shopper.write("返品は何日以内にできますか？")
        draft = shopper.chat.locator("li.draft")
        expect(draft).to_be_visible(timeout=FIRST_ANSWER_MS)
        shopper.screenshot("ja-streaming.png")

        answer = shopper.bot_replies().last
        expect(answer).to_contain_text("元の梱包", timeout=ANSWER_MS)
        expect(draft).to_have_count(0)
        stored = [f for f in shopper.frames_of("message") if f["role"] == "bot"][-1]
        tokens = [f for f in shopper.frames_of("token") if f.get("reply_to") == stored["reply_to"]]
        assert len(tokens) >= 2, tokens
        assert "".join(f["delta"] for f in tokens) == stored["text"]
        assert stored["text"].startswith(SCRIPTED_ANSWER.split(" ")[0])
        # The draft grew piece by piece: each text it showed begins the next one.
        shown = list(dict.fromkeys(shopper.drafts()))
        assert len(shown) >= 2, shown
        assert all(later.startswith(earlier) for earlier, later in pairwise(shown))
        assert shopper.drafts_were_busy(), "screen readers were read every token"
        expect(answer.locator(".text")).to_have_text(stored["text"])
        assert stored["citations"], "the answer has no citation"
        expect(shopper.chat.locator("#messages")).not_to_have_attribute("aria-busy", "true")
    finally:
        shopper.close()


def test_a_reload_keeps_the_thread(japanese_shopper: Shopper) -> None:
    shopper = japanese_shopper
    shopper.write("NL-4410 の保証期間は？")
    expect(shopper.bot_replies().last).to_contain_text("2年", timeout=FIRST_ANSWER_MS)
    before = shopper.chat.locator("li.msg").all_inner_texts()
    last_seq = shopper.saved()["seq"]

    shopper.page.reload()
    # The chat stays open after the reload and shows the same thread, once.
    expect(shopper.chat.locator("li.msg.bot")).to_have_count(1)
    assert shopper.chat.locator("li.msg").all_inner_texts() == before
    resumes = [f for f in shopper.sent if f["type"] == "resume"]
    assert resumes[-1]["after"] == last_seq
    shopper.screenshot("ja-reload.png")


def test_an_order_cancelled_on_the_confirmation_card(japanese_shopper: Shopper) -> None:
    shopper = japanese_shopper
    shopper.write("注文 #W1000002 をキャンセルしたいです。メールは anna.schmidt@example.com です。")

    card = shopper.chat.locator("li.action")
    expect(card).to_be_visible(timeout=FIRST_ANSWER_MS)
    expect(card.locator(".summary")).to_contain_text("#W1000002")
    action = shopper.frames_of("action")[-1]
    assert action["needs_confirmation"] is True
    shopper.screenshot("ja-action-card.png")

    card.get_by_role("button", name="確定する").click()
    expect(card.get_by_role("button", name="確定する")).to_be_disabled()
    confirms = [f for f in shopper.sent if f["type"] == "confirm"]
    assert confirms == [{"type": "confirm", "action_id": action["action_id"], "accept": True}]
    expect(shopper.bot_replies().last).to_contain_text("完了しました", timeout=ANSWER_MS)

    # The order really is cancelled: asking about it says so.
    shopper.write("注文 #W1000002 の状況を教えてください")
    expect(shopper.bot_replies().last).to_contain_text("キャンセル済み", timeout=ANSWER_MS)
    shopper.screenshot("ja-cancelled.png")


def test_cancel_on_the_card_changes_nothing(japanese_shopper: Shopper) -> None:
    shopper = japanese_shopper
    shopper.write("注文 #W1000006 をキャンセルしたいです。somchai.b@example.com")
    card = shopper.chat.locator("li.action")
    expect(card).to_be_visible(timeout=FIRST_ANSWER_MS)
    card.get_by_role("button", name="キャンセル").click()
    action = shopper.frames_of("action")[-1]
    confirms = [f for f in shopper.sent if f["type"] == "confirm"]
    assert confirms == [{"type": "confirm", "action_id": action["action_id"], "accept": False}]
    expect(shopper.bot_replies().last).to_contain_text("何も変更していません", timeout=ANSWER_MS)

    shopper.write("注文 #W1000006 の状況を教えてください")
    expect(shopper.bot_replies().last).to_contain_text("受付済み", timeout=ANSWER_MS)


def test_a_person_takes_over_and_the_shopper_sees_it_live(
    server: str, japanese_shopper: Shopper
) -> None:
    shopper = japanese_shopper
    human = shopper.chat.get_by_role("button", name="担当者と話す")
    expect(human).to_be_visible()
    human.click()

    banner = shopper.chat.locator("#banner")
    expect(banner).to_contain_text("順番待ち", timeout=ANSWER_MS)
    assert shopper.frames_of("state")[-1]["state"] == "queued"
    expect(human).to_be_disabled()
    shopper.screenshot("ja-queued.png")

    conversation = shopper.saved()["conversation_id"]
    with httpx.Client(base_url=server, timeout=30) as api:
        login = api.post(
            "/api/v1/auth/login", json={"email": DEMO_AGENTS[0][0], "password": DEMO_AGENTS[0][1]}
        )
        assert login.status_code == 200, login.text
        agent = {"Authorization": f"Bearer {login.json()['token']}"}
        taken = api.post(f"/api/v1/conversations/{conversation}/take", headers=agent)
        assert taken.status_code == 200, taken.text
        expect(banner).to_contain_text("担当者がチャットに参加しました", timeout=ANSWER_MS)

        # Typing shows both ways: the agent sees the shopper type, the shopper sees the agent.
        socket_url = server.replace("http://", "ws://") + "/api/v1/agent/ws"
        with connect(f"{socket_url}?token={login.json()['token']}") as agent_socket:
            # The snapshot comes once the socket follows the threads the agent holds.
            assert _next_frame(agent_socket, "queue")["event"] == "snapshot"
            shopper.chat.get_by_role("textbox").press_sequentially("す", delay=50)
            assert _next_frame(agent_socket, "typing")["role"] == "shopper"
            agent_socket.send(json.dumps({"type": "typing", "conversation_id": conversation}))
            expect(shopper.chat.locator("#typing")).to_have_text("担当者が入力中…")
        written = api.post(
            f"/api/v1/conversations/{conversation}/messages",
            headers=agent,
            json={"text": "担当の佐藤です。ご用件を伺います。"},
        )
        assert written.status_code in (200, 201), written.text

        replies = shopper.chat.locator("li.msg.agent")
        expect(replies).to_contain_text("担当の佐藤です", timeout=ANSWER_MS)
        assert shopper.frames_of("state")[-1]["state"] == "human"
        shopper.screenshot("ja-agent-live.png")

        # What the agent writes while the shopper's connection is down arrives once it is back.
        seen = shopper.saved()["seq"]
        body = shopper.chat.locator("body")
        shopper.context.set_offline(True)
        expect(body).to_have_attribute("data-connection", "offline")
        later = api.post(
            f"/api/v1/conversations/{conversation}/messages",
            headers=agent,
            json={"text": "キャンセルの件、確認が取れました。"},
        )
        assert later.status_code in (200, 201), later.text
        shopper.context.set_offline(False)
        expect(replies).to_have_count(2, timeout=ANSWER_MS)
        expect(replies.last).to_contain_text("確認が取れました")
        resumes = [f for f in shopper.sent if f["type"] == "resume"]
        assert resumes[-1]["after"] == seen

        # With the chat closed, a new reply marks the launcher; opening it shows the reply.
        shopper.chat.get_by_role("textbox").press("Escape")
        expect(shopper.page.locator("#parley-frame")).to_be_hidden()
        api.post(
            f"/api/v1/conversations/{conversation}/messages",
            headers=agent,
            json={"text": "ほかにご質問はありますか？"},
        )
        unread = shopper.page.locator("#parley-unread")
        expect(unread).to_be_visible(timeout=ANSWER_MS)
        shopper.open_chat()
        expect(unread).to_be_hidden()
        expect(replies.last).to_contain_text("ほかにご質問はありますか？")

        resolved = api.post(f"/api/v1/conversations/{conversation}/resolve", headers=agent)
        assert resolved.status_code == 200, resolved.text
        expect(banner).to_contain_text("解決済み", timeout=ANSWER_MS)
        expect(human).to_be_enabled()


def _next_frame(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next frame of one type on a socket (others are skipped), within ANSWER_MS."""
    deadline = time.monotonic() + ANSWER_MS / 1000
    while time.monotonic() < deadline:
        frame: dict[str, Any] = json.loads(socket.recv(timeout=deadline - time.monotonic()))
        if frame.get("type") == kind:
            return frame
    raise AssertionError(f"no {kind} frame within {ANSWER_MS} ms")


def test_messages_typed_offline_are_sent_once_back(japanese_shopper: Shopper) -> None:
    shopper = japanese_shopper
    body = shopper.chat.locator("body")
    expect(body).to_have_attribute("data-connection", "online")
    shopper.context.set_offline(True)
    expect(body).to_have_attribute("data-connection", "offline")
    expect(shopper.chat.locator("#banner")).to_contain_text("オフラインです")
    shopper.write("配送先の国はどこですか？")
    pending = shopper.chat.locator("li.msg.pending")
    expect(pending).to_contain_text("未送信")
    shopper.screenshot("ja-offline.png")

    shopper.context.set_offline(False)
    expect(pending).to_have_count(0, timeout=ANSWER_MS)
    expect(shopper.bot_replies()).to_have_count(1, timeout=FIRST_ANSWER_MS)
    shopper.page.reload()
    expect(shopper.bot_replies()).to_have_count(1)
    # Sent once, stored once: resends carry the same client_id.
    mine = shopper.chat.locator("li.msg.shopper", has_text="配送先の国はどこですか？")
    expect(mine).to_have_count(1)


def test_the_arabic_widget_is_right_to_left(server: str, browser: Browser) -> None:
    # The page asks for Arabic (data-locale) although the browser is English.
    shopper = Shopper.visit(browser, server, locale="en-US", query="?lang=ar")
    try:
        shopper.open_chat()
        expect(shopper.chat.locator("#title")).to_have_text("تحدث معنا")
        assert shopper.frame.evaluate("document.documentElement.dir") == "rtl"
        assert shopper.frame.evaluate("document.documentElement.lang") == "ar"
        launcher = shopper.page.locator("#parley-launcher")
        expect(launcher).to_have_attribute("aria-label", "أغلق الدردشة")
        shopper.write("ما هي مدة الإرجاع؟")
        expect(shopper.bot_replies().last).to_be_visible(timeout=FIRST_ANSWER_MS)

        # Right to left: the launcher sits bottom-left, the shopper's bubble on the left and the
        # bot's on the right, the send button left of the text box.
        width = shopper.page.viewport_size["width"] if shopper.page.viewport_size else 1280
        box = launcher.bounding_box()
        assert box is not None and box["x"] < width / 2
        mine = shopper.chat.locator("li.msg.shopper").last.bounding_box()
        theirs = shopper.bot_replies().last.bounding_box()
        send = shopper.chat.locator("#send").bounding_box()
        text = shopper.chat.get_by_role("textbox").bounding_box()
        assert mine and theirs and send and text
        assert mine["x"] < theirs["x"]
        assert send["x"] < text["x"]
        shopper.screenshot("ar-rtl.png")
    finally:
        shopper.close()


def test_outside_support_hours_the_shopper_may_leave_an_email(
    server: str, japanese_shopper: Shopper
) -> None:
    shopper = japanese_shopper
    with httpx.Client(base_url=server, timeout=30) as api:
        login = api.post(
            "/api/v1/auth/login", json={"email": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]}
        )
        admin = {"Authorization": f"Bearer {login.json()['token']}"}
        policy = api.get("/api/v1/store/policy", headers=admin).json()
        # One hour a week, on another weekday than today's in Tokyo: nobody is on duty now.
        today = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%a").lower()
        other = next(day for day in ("mon", "tue", "wed") if day != today)
        hours = {**policy, "support_hours": {other: ["09:00-10:00"]}, "time_zone": "Asia/Tokyo"}
        changed = api.put("/api/v1/store/policy", headers=admin, json=hours)
        assert changed.status_code == 200, changed.text
        try:
            shopper.chat.get_by_role("button", name="担当者と話す").click()
            banner = shopper.chat.locator("#banner")
            expect(banner).to_contain_text("担当者は", timeout=ANSWER_MS)
            assert shopper.frames_of("state")[-1]["back_at"]
            email = shopper.chat.get_by_label("メールアドレス")
            email.fill("yuki.tanaka@example.com")
            shopper.chat.get_by_role("button", name="メールアドレスを残す").click()
            thanks = shopper.chat.locator("li.msg.system", has_text="yuki.tanaka@example.com")
            expect(thanks).to_be_visible(timeout=ANSWER_MS)
            expect(email).to_be_hidden()
            assert {"type": "contact", "email": "yuki.tanaka@example.com"} in shopper.sent
            shopper.screenshot("ja-after-hours.png")
        finally:
            restored = api.put("/api/v1/store/policy", headers=admin, json=policy)
            assert restored.status_code == 200, restored.text
