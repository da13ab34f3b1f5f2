"""Store keys, signed shopper identities and signed tokens, with the standard library only
(passwords: `bot.domain.passwords`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from bot.domain.errors import Unauthorized


def new_key(kind: str) -> str:
    """A new store key: `pk_…` for the widget, `sk_…` for the merchant's server."""
    return f"{kind}_{secrets.token_urlsafe(24)}"


def key_hash(key: str) -> str:
    """Keys are high-entropy, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(key.encode()).hexdigest()


def identity_signature(user_id: str, secret: str) -> str:
    """HMAC-SHA256 of a shopper's user id with the store's identity secret, as the widget sends."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_matches(user_id: str, signature: str, secret: str) -> bool:
    """Whether `signature` is the store's signature of `user_id` (hex, any case)."""
    return hmac.compare_digest(identity_signature(user_id, secret), signature.lower())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(claims: dict[str, Any], secret: str, ttl_s: int) -> str:
    """A compact signed token (`payload.signature`) carrying `claims` and an expiry."""
    body = dict(claims, exp=int(time.time()) + ttl_s)
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    signature = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


def read_token(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token made by `sign_token`, or `Unauthorized` if forged or expired."""
    try:
        payload, signature = token.split(".")
    except ValueError as error:
        raise Unauthorized("malformed token") from error
    expected = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, signature):
        raise Unauthorized("invalid token")
    try:
        claims: dict[str, Any] = json.loads(_unb64(payload))
    except ValueError as error:
        raise Unauthorized("malformed token") from error
    if int(claims.get("exp", 0)) < time.time():
        raise Unauthorized("token expired")
    return claims
