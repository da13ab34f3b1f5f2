"""An agent who reads English takes over a Japanese shopper's thread in the console: the thread
appears in the live queue, the agent reads the Japanese message with its English translation,
drafts a reply with "Suggest a reply", answers in English, the shopper reads it in Japanese with
the original one click away, and the agent hands back to the bot with a note; the bot answers
the next question. The server's chat model is scripted (`console_storefront`): it translates
and words answers by what each prompt asks."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.demo.seed import DEMO_AGENTS
from tests.browser.conftest import _serve
from tests.browser.console_storefront import DRAFT, QUESTION, QUESTION_EN, REPLY, REPLY_JA
from tests.browser.shopper import SCREENSHOTS, Shopper
from tests.browser.test_content_security_policy import VIOLATION_RECORDER

pytestmark = pytest.mark.browser

FIRST_ANSWER_MS = 180_000
ANSWER_MS = 60_000
NOTE = "Shopper only wanted to check the return window; nothing promised."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo store with the translating scripted model, in its own process."""
    folder = tmp_path_factory.mktemp("console")
    yield from _serve(folder, lambda port: ["tests.browser.console_storefront", str(port)])


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

        # The Japanese message with its English translation (made once, stored).
        question = console.locator("li.msg.shopper").filter(has_text=QUESTION).first
        expect(question.locator(".text")).to_have_attribute("lang", "ja")
        expect(question.locator(".translation-text")).to_have_text(QUESTION_EN)
        expect(question.locator(".translation-status")).to_have_text("translated into en")
        bot_turn = console.locator("li.msg.bot").first
        expect(bot_turn.locator(".turn .meta").first).to_contain_text("confidence")
        bot_turn.locator("details.sources > summary").click()
        bot_turn.locator("details.source > summary").first.click()
        expect(bot_turn.locator("blockquote").first).to_contain_text("30", timeout=ANSWER_MS)

        # "Suggest a reply" drafts an English answer from the knowledge base, with its source.
        console.get_by_role("button", name="Suggest a reply").click()
        expect(console.locator("#reply-text")).to_have_value(DRAFT, timeout=ANSWER_MS)
        expect(console.locator("#reply-text")).to_be_focused()
        source = console.locator("#suggestion details.source").first
        expect(source.locator("summary")).to_contain_text(re.compile(r"\.(md|csv|txt|html) — "))
        expect(source.locator("blockquote")).not_to_be_visible()
        source.locator("summary").click()
        expect(source.locator("blockquote")).to_be_visible()
        expect(source.locator("blockquote")).to_contain_text("30")
        _shot(console, "console-suggested-reply.png")

        # The agent rewrites it in English and sees what the shopper will receive, in Japanese.
        console.locator("#reply-text").fill(REPLY)
        expect(console.locator("#preview-text")).to_have_text(REPLY_JA, timeout=ANSWER_MS)
        expect(console.locator("#preview-status")).to_have_text("translated into ja")
        _shot(console, "console-thread.png")
        console.keyboard.press("Control+Enter")
        sent = console.locator("li.msg.agent").last
        expect(sent.locator(".text")).to_have_text(REPLY, timeout=ANSWER_MS)
        expect(sent.locator(".translation-text")).to_have_text(REPLY_JA)
        expect(sent.locator(".translation-status")).to_have_text("translated into ja")

        # The shopper reads Japanese; the agent's English is one click away, and back.
        received = shopper.chat.locator("li.msg.agent").last
        expect(received.locator(".text")).to_have_text(REPLY_JA, timeout=ANSWER_MS)
        expect(received.locator(".text")).to_have_attribute("lang", "ja")
        expect(received).to_contain_text("自動翻訳")
        toggle = received.get_by_role("button", name="原文を表示")
        expect(toggle).to_have_attribute("aria-pressed", "false")
        toggle.click()
        expect(received.locator(".text")).to_have_text(REPLY)
        expect(received.locator(".text")).to_have_attribute("lang", "en")
        shown = received.get_by_role("button", name="翻訳を表示")
        expect(shown).to_have_attribute("aria-pressed", "true")
        shopper.screenshot("console-shopper-sees-original.png")
        shown.click()
        expect(received.locator(".text")).to_have_text(REPLY_JA)
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
