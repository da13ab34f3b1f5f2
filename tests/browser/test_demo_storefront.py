"""A shopper on the demo storefront opens the widget and is greeted in their language."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "title", "greeting"),
    [
        ("de-DE", "Chatten Sie mit uns", "Hallo! Fragen Sie mich"),
        ("th-TH", "แชทกับเรา", "สวัสดีค่ะ"),
        ("ar-EG", "تحدث معنا", "مرحبًا"),
    ],
)
def test_widget_opens_in_the_shoppers_language(
    server: str, browser: Browser, locale: str, title: str, greeting: str
) -> None:
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(f"{server}/demo")
    expect(page.get_by_role("heading", name="Light for long evenings")).to_be_visible()

    page.get_by_role("button", name="Open chat").click()
    chat = page.frame_locator("iframe[title='Chat with us']")
    expect(chat.locator("#title")).to_have_text(title)
    expect(chat.locator("li.system").first).to_contain_text(greeting)
    context.close()


def test_reload_keeps_the_same_conversation(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{server}/demo")
    page.get_by_role("button", name="Open chat").click()
    frame = page.frame_locator("iframe[title='Chat with us']")
    expect(frame.locator("li.system").first).to_be_visible()
    first = page.frames[1].evaluate("localStorage.getItem('parley:pk_demo_storefront')")

    page.reload()
    page.get_by_role("button", name="Open chat").click()
    expect(
        page.frame_locator("iframe[title='Chat with us']").locator("li.system").first
    ).to_be_visible()
    second = page.frames[1].evaluate("localStorage.getItem('parley:pk_demo_storefront')")
    assert first is not None and second is not None
    assert json.loads(first)["conversation_id"] == json.loads(second)["conversation_id"]
    context.close()
