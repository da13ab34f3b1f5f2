"""A merchant signs in to the admin pages, sees the store's documents and tries the bot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from bot.demo.seed import DEMO_ADMIN, DEMO_AGENTS

pytestmark = pytest.mark.browser


def test_admin_signs_in_and_tries_the_bot(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/admin")
    page.get_by_label("Email").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text("wrong email or password")

    page.get_by_label("Password").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Parley admin — demo")).to_be_visible()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    expect(page.get_by_label("Policy (JSON)")).to_have_value(re.compile("return_window_days"))

    page.get_by_label("Shopper message").fill("Wo ist meine Bestellung #W1000001?")
    page.get_by_role("button", name="Ask").click()
    answer = page.locator(".answer")
    # The first answer may wait for the models the server is still loading.
    expect(answer).to_contain_text("E-Mail", timeout=180_000)
    expect(answer).to_contain_text("language de · intent order_status · needs_info")
    page.close()


def test_an_agent_cannot_use_the_admin_pages(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/admin")
    page.get_by_label("Email").fill(DEMO_AGENTS[0][0])
    page.get_by_label("Password").fill(DEMO_AGENTS[0][1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("This page needs a store admin.")).to_be_visible()
    page.close()
