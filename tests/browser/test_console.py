"""An agent who reads English takes over a Japanese shopper's thread in the console: the thread
appears in the live queue, the agent reads the Japanese message with its translation slot,
answers in English, and hands back to the bot with a note; the bot answers the next question."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.demo.seed import DEMO_AGENTS
from tests.browser.shopper import SCREENSHOTS, Shopper
from tests.browser.test_content_security_policy import VIOLATION_RECORDER

pytestmark = pytest.mark.browser

FIRST_ANSWER_MS = 180_000
ANSWER_MS = 60_000
QUESTION = "返品は何日以内にできますか？"
REPLY = "Hello, I am Sam from the support team. Your return window is 30 days."
NOTE = "Shopper only wanted to check the return window; nothing promised."


@pytest.fixture
def console(server: str, browser: Browser) -> Iterator[Page]:
    """The demo store's English-reading agent, signed in to `/console`."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1440, "height": 900})
    context.add_init_script(VIOLATION_RECORDER)
    page = context.new_page()
    page.goto(f"{server}/console")
    email, password, languages = DEMO_AGENTS[0]
    assert "en" in languages and "ja" not in languages
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")
    yield page
    assert page.evaluate("window.__violations") == []
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_an_english_agent_takes_a_japanese_thread_and_hands_it_back(
    server: str, browser: Browser, console: Page
) -> None:
    shopper = Shopper.visit(browser, server, locale="ja-JP")
    try:
        shopper.open_chat()
        # The widget has opened its session in Japanese before the shopper types.
        expect(shopper.chat.locator("#title")).to_have_text("チャットでお問い合わせ")
        shopper.write(QUESTION)
        expect(shopper.bot_replies().last).to_contain_text("30日以内", timeout=FIRST_ANSWER_MS)
        conversation = shopper.saved()["conversation_id"]

        # The shopper asks for a person: the thread is in the agent's queue within two seconds.
        asked = time.monotonic()
        shopper.chat.get_by_role("button", name="担当者と話す").click()
        item = console.locator(f"#thread-{conversation}")
        expect(item).to_be_visible(timeout=2_000)
        appeared_s = time.monotonic() - asked
        assert appeared_s < 2.0, appeared_s
        expect(item).to_contain_text("JA")
        expect(item).to_contain_text("asked for a person")
        expect(item).to_contain_text(QUESTION)
        expect(item).to_contain_text("Offered to you")
        expect(console.locator("#announcer")).to_contain_text("New thread in ja")
        _shot(console, "console-queue.png")

        # Keyboard only: move to the thread, open it, take it.
        console.locator("#queue").focus()
        index = int(item.get_attribute("data-index") or 0)
        for _ in range(index):
            console.keyboard.press("j")
        expect(item).to_have_attribute("aria-selected", "true")
        console.keyboard.press("Enter")
        expect(console.locator("#thread-title")).to_have_text(f"Thread {conversation[:8]}")
        console.keyboard.press("t")
        expect(console.locator("#reply-text")).to_be_focused()
        expect(console.locator("#thread-facts")).to_contain_text("you hold it")

        # The Japanese message, with its translation slot saying it was not translated yet.
        question = console.locator("li.msg.shopper").filter(has_text=QUESTION).first
        expect(question.locator(".text")).to_have_attribute("lang", "ja")
        expect(question.locator(".translation-status")).to_have_text(
            "Not translated: translation is off (no chat model configured), "
            "so the original is shown"
        )
        bot_turn = console.locator("li.msg.bot").first
        expect(bot_turn.locator(".turn .meta").first).to_contain_text("confidence")
        bot_turn.locator("details.sources > summary").click()
        bot_turn.locator("details.source > summary").first.click()
        expect(bot_turn.locator("blockquote").first).to_contain_text("30", timeout=ANSWER_MS)

        # The agent writes in English and sees what the shopper will receive.
        console.locator("#reply-text").fill(REPLY)
        expect(console.locator("#preview-text")).to_have_text(REPLY)
        expect(console.locator("#preview-status")).to_contain_text(
            "translation is off (no chat model configured), so the original is shown"
        )
        _shot(console, "console-thread.png")
        console.keyboard.press("Control+Enter")
        expect(console.locator("li.msg.agent")).to_contain_text(REPLY)
        expect(shopper.chat.locator("li.msg.agent")).to_contain_text(REPLY, timeout=ANSWER_MS)
        shopper.screenshot("console-shopper-sees-agent.png")

        # Hand back with a note; the bot answers the shopper's next question and carries it.
        console.get_by_label("Note for the bot").fill(NOTE)
        console.get_by_role("button", name="Hand back to the bot").click()
        expect(console.locator("#thread-facts")).to_contain_text("State: bot")
        expect(console.locator("li.event").last).to_contain_text(NOTE)
        answers_before = shopper.bot_replies().count()
        shopper.write("返品の送料は無料ですか？")
        expect(shopper.bot_replies()).to_have_count(answers_before + 1, timeout=ANSWER_MS)
        token = console.evaluate("sessionStorage.getItem('parley:token')")
        thread = httpx.get(
            f"{server}/api/v1/conversations/{conversation}/thread",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        last_bot = [m for m in thread["messages"] if m["role"] == "bot"][-1]
        assert last_bot["handback_note"] == NOTE
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", last_bot["text"])
        shopper.screenshot("console-shopper-bot-again.png")
        _shot(console, "console-handed-back.png")
    finally:
        shopper.close()
