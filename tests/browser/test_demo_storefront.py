"""A shopper on the demo storefront opens the widget and is greeted in their language."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Browser, Route, expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "title", "greeting", "close"),
    [
        ("de-DE", "Chatten Sie mit uns", "Hallo! Fragen Sie mich", "Chat schließen"),
        ("th-TH", "แชทกับเรา", "สวัสดีค่ะ", "ปิดแชท"),
        ("ar-EG", "تحدث معنا", "مرحبًا", "أغلق الدردشة"),
        ("hi-IN", "हमसे बात करें", "नमस्ते!", "चैट बंद करें"),
    ],
)
def test_widget_opens_in_the_shoppers_language(
    server: str, browser: Browser, locale: str, title: str, greeting: str, close: str
) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{server}/demo")
    expect(page.get_by_role("heading", name="Light for long evenings")).to_be_visible()

    page.locator("#parley-launcher").click()
    chat = page.frame_locator("#parley-frame")
    expect(chat.locator("#title")).to_have_text(title)
    expect(chat.locator("li.greeting")).to_contain_text(greeting)
    # The host page's launcher and the iframe speak the shopper's language too.
    expect(page.locator("#parley-launcher")).to_have_attribute("aria-label", close)
    expect(page.locator("#parley-frame")).to_have_attribute("title", title)
    context.close()


def test_the_widget_is_usable_from_the_keyboard(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{server}/demo")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")
    chat = page.frame_locator("#parley-frame")
    # Opening moves focus into the message box; Escape closes and gives focus back.
    expect(chat.get_by_label("Your message")).to_be_focused()
    expect(chat.get_by_role("button", name="Talk to a person")).to_be_visible()
    expect(chat.get_by_role("log")).to_have_attribute("aria-live", "polite")
    page.keyboard.press("Escape")
    expect(page.locator("#parley-frame")).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()
    context.close()


def test_reload_keeps_the_same_conversation(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{server}/demo")
    page.locator("#parley-launcher").click()
    frame = page.frame_locator("#parley-frame")
    expect(frame.locator("li.greeting")).to_be_visible()
    first = page.frames[1].evaluate("localStorage.getItem('parley:pk_demo_storefront')")

    page.reload()
    # An open chat stays open on the next page.
    expect(page.frame_locator("#parley-frame").locator("li.greeting")).to_be_visible()
    second = page.frames[1].evaluate("localStorage.getItem('parley:pk_demo_storefront')")
    assert first is not None and second is not None
    assert json.loads(first)["conversation_id"] == json.loads(second)["conversation_id"]
    context.close()


def test_the_widget_recovers_when_parley_was_unreachable(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="de-DE")
    refused: list[str] = []

    def refuse_once(route: Route) -> None:
        if refused:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("connectionrefused")

    context.route("**/api/v1/widget/sessions", refuse_once)
    page = context.new_page()
    page.goto(f"{server}/demo")
    page.locator("#parley-launcher").click()
    chat = page.frame_locator("#parley-frame")
    expect(chat.locator("li.notice.error")).to_have_text("The chat is not available right now.")
    # It tries again by itself and the shopper gets the chat without reloading.
    expect(chat.locator("li.greeting")).to_contain_text("Hallo!", timeout=15_000)
    expect(chat.locator("li.notice.error")).to_have_count(0)
    expect(chat.locator("body")).to_have_attribute("data-connection", "online")
    assert len(refused) == 1
    context.close()


def test_a_stale_saved_token_starts_a_new_conversation(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{server}/demo")
    page.locator("#parley-launcher").click()
    chat = page.frame_locator("#parley-frame")
    expect(chat.locator("body")).to_have_attribute("data-connection", "online")
    frame = page.frame(url=re.compile(r"/widget/chat\.html"))
    assert frame is not None
    # A token the server no longer accepts (expired, or signed with a rotated secret).
    old = frame.evaluate(
        """() => {
          const saved = JSON.parse(localStorage.getItem('parley:pk_demo_storefront'));
          const old = saved.conversation_id;
          saved.token = 'eyJraW5kIjoid2lkZ2V0In0.forged';
          localStorage.setItem('parley:pk_demo_storefront', JSON.stringify(saved));
          return old;
        }"""
    )

    page.reload()
    chat = page.frame_locator("#parley-frame")
    expect(chat.locator("body")).to_have_attribute("data-connection", "online")
    expect(chat.locator("li.notice.error")).to_have_count(0)
    frame = page.frame(url=re.compile(r"/widget/chat\.html"))
    assert frame is not None
    saved = json.loads(frame.evaluate("localStorage.getItem('parley:pk_demo_storefront')"))
    assert saved["conversation_id"] != old
    context.close()
