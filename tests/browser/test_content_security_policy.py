"""Every page Parley serves carries a Content-Security-Policy that runs no inline script, and the
pages work under it: the browser reports no violation while they are used."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Browser, expect

from bot.demo.seed import DEMO_ADMIN

pytestmark = pytest.mark.browser

# Runs in every frame: keeps the policy violations the browser reports.
VIOLATION_RECORDER = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.mark.parametrize("path", ["/demo", "/admin", "/console", "/widget/chat.html"])
def test_pages_send_a_policy_without_inline_scripts(server: str, path: str) -> None:
    response = httpx.get(f"{server}{path}", timeout=30)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Only the chat iframe may be framed, by any store's page.
    expected = "*" if path == "/widget/chat.html" else "'none'"
    assert directives["frame-ancestors"] == expected
    assert "<script>" not in response.text and " onclick=" not in response.text


def test_the_pages_run_under_their_policy(server: str, browser: Browser) -> None:
    context = browser.new_context(locale="en-US")
    context.add_init_script(VIOLATION_RECORDER)
    page = context.new_page()
    page.goto(f"{server}/demo")
    page.locator("#parley-launcher").click()
    chat = page.frame_locator("#parley-frame")
    expect(chat.locator("li.greeting")).to_be_visible()
    expect(chat.locator("body")).to_have_attribute("data-connection", "online")
    for frame in page.frames:
        assert frame.evaluate("window.__violations") == [], frame.url

    page.goto(f"{server}/admin")
    page.get_by_label("Email").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    expect(page.get_by_label("Policy (JSON)")).not_to_be_empty()
    assert page.evaluate("window.__violations") == []

    page.goto(f"{server}/console")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    assert page.evaluate("window.__violations") == []
    context.close()
