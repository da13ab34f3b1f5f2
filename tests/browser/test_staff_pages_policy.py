"""The console and admin pages work under their Content-Security-Policy, and the policy stops
markup that a message could smuggle in from running script."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.demo.seed import DEMO_ADMIN, DEMO_AGENTS

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_the_staff_pages_run_under_their_policy_and_block_injected_script(
    server: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto(f"{server}/console")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, DEMO_AGENTS[0][0], DEMO_AGENTS[0][1])
    expect(page.get_by_text(f"{DEMO_AGENTS[0][0]} · reads")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []  # the page's own code is allowed

    # What an XSS in a shopper's message would try: an inline handler on injected markup.
    page.evaluate(
        """document.body.insertAdjacentHTML(
             "beforeend", '<img src="/nothing.png" onerror="window.pwned = true">')"""
    )
    page.wait_for_function("window.cspViolations.length > 0")
    assert page.evaluate("window.pwned") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.cspViolations"))

    page.close()

    page = browser.new_page()  # a tab of its own: the console's session stays in that tab
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"{server}/admin")
    assert (
        response is not None
        and "frame-ancestors 'none'" in response.headers["content-security-policy"]
    )
    sign_in(page, DEMO_ADMIN[0], DEMO_ADMIN[1])
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    expect(page.get_by_label("Policy (JSON)")).to_have_value(re.compile("return_window_days"))
    assert page.evaluate("window.cspViolations") == []
    page.close()
