"""A shopper on the demo storefront, driving the real widget in Chromium, and what they saw."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Frame, FrameLocator, Locator, Page
from playwright.sync_api import WebSocket as PageSocket

SCREENSHOTS = Path(__file__).parent / "screenshots"
STORAGE_KEY = "parley:pk_demo_storefront"

# Runs in every frame before its scripts: in the chat iframe, it keeps each text the bot's draft
# bubble showed while the reply streamed (and whether the log was busy meanwhile), so a test can
# tell a streamed reply from a pasted one.
DRAFT_RECORDER = """
if (location.pathname === "/widget/chat.html") {
  window.__drafts = [];
  new MutationObserver(function () {
    var draft = document.querySelector("li.draft .text");
    if (draft && draft.textContent) {
      var busy = document.getElementById("messages").getAttribute("aria-busy") === "true";
      window.__drafts.push({ text: draft.textContent, busy: busy });
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}
"""


@dataclass
class Shopper:
    """One browser context (one shopper's storage) on `/demo`, with the socket frames logged."""

    context: BrowserContext
    page: Page
    received: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def visit(cls, browser: Browser, base: str, *, locale: str, query: str = "") -> Shopper:
        """Open the storefront with the browser set to `locale`."""
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        context.add_init_script(DRAFT_RECORDER)
        page = context.new_page()
        shopper = cls(context, page)
        page.on("websocket", shopper._log)
        page.goto(f"{base}/demo{query}")
        return shopper

    def _log(self, socket: PageSocket) -> None:
        socket.on("framereceived", lambda payload: self.received.append(json.loads(payload)))
        socket.on("framesent", lambda payload: self.sent.append(json.loads(payload)))

    @property
    def chat(self) -> FrameLocator:
        """The widget's iframe."""
        return self.page.frame_locator("#parley-frame")

    @property
    def frame(self) -> Frame:
        """The widget's iframe as a frame to evaluate script in."""
        found = self.page.frame(url=re.compile(r"/widget/chat\.html"))
        assert found is not None, "the chat iframe is not on the page"
        return found

    def open_chat(self) -> None:
        """Click the launcher (the chat stays open across reloads once opened)."""
        self.page.locator("#parley-launcher").click()

    def write(self, text: str) -> None:
        """Type a message and press Enter, as a shopper does."""
        box = self.chat.get_by_role("textbox")
        box.fill(text)
        box.press("Enter")

    def bot_replies(self) -> Locator:
        """The bot's stored replies (not the draft that streams)."""
        return self.chat.locator("li.msg.bot:not(.draft)")

    def saved(self) -> dict[str, Any]:
        """What the widget keeps in the iframe's localStorage."""
        raw = self.frame.evaluate(f"localStorage.getItem({STORAGE_KEY!r})")
        assert raw is not None, "the widget saved nothing"
        loaded: dict[str, Any] = json.loads(raw)
        return loaded

    def drafts(self) -> list[str]:
        """Every text the streaming draft bubble showed, in order."""
        return [shown["text"] for shown in self._drafts()]

    def drafts_were_busy(self) -> bool:
        """Whether the message log was marked busy (screen readers wait) whenever a draft showed."""
        return all(shown["busy"] for shown in self._drafts())

    def _drafts(self) -> list[dict[str, Any]]:
        shown: list[dict[str, Any]] = self.frame.evaluate("window.__drafts || []")
        return shown

    def frames_of(self, kind: str) -> list[dict[str, Any]]:
        """The server's frames of one type, in arrival order."""
        return [frame for frame in self.received if frame.get("type") == kind]

    def screenshot(self, name: str) -> Path:
        """Save the whole storefront with the widget, for people to look at."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path))
        return path

    def close(self) -> None:
        """Close this shopper's browser context."""
        self.context.close()
