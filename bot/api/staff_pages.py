"""A Content-Security-Policy on the staff pages (`/console`, `/admin`): they hold a session that
can read every shopper's thread, so only Parley's own scripts, styles and sockets may run there."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STAFF_PAGES = ("/console", "/admin")

STAFF_PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script: an injected <script> in a message cannot run
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' data:",  # the new-thread sound
        "connect-src 'self'",  # the API and /api/v1/agent/ws (CSP 3 lets 'self' match ws/wss)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",  # no other site may frame the console to trick a click
    )
)

_HEADERS = (
    (b"content-security-policy", STAFF_PAGE_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def is_staff_page(path: str) -> bool:
    """`/console`, `/admin` and anything under them."""
    return any(path == page or path.startswith(page + "/") for page in STAFF_PAGES)


class StaffPageSecurity:
    """Pure ASGI middleware: adds the staff pages' policy headers, leaves every other path alone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to responses for staff pages."""
        if scope["type"] != "http" or not is_staff_page(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in _HEADERS}
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in names
                ]
                message["headers"] = headers + list(_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_policy)
