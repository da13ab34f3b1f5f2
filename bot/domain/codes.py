"""One-time codes that prove a shopper reads the account's email: issued, kept only as a
salted hash with an expiry, checked once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class IssuedCode:
    """A code as it is sent (`code`) and as it is kept (`record`: no code, only its hash)."""

    code: str
    record: dict[str, str]


def issue_code(customer_id: str, now: datetime) -> IssuedCode:
    """A fresh random code for `customer_id`, valid for `CODE_TTL`."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    return IssuedCode(
        code,
        {
            "customer_id": customer_id,
            "salt": salt,
            "hash": _hash(salt, customer_id, code),
            "expires": (now + CODE_TTL).isoformat(),
        },
    )


def code_matches(record: dict[str, str], entered: str, now: datetime) -> bool:
    """True when `entered` is the code of `record` and it has not expired."""
    try:
        expires = datetime.fromisoformat(record["expires"])
        expected = record["hash"]
        salt, customer_id = record["salt"], record["customer_id"]
    except (KeyError, ValueError):
        return False
    if now > expires:
        return False
    return hmac.compare_digest(expected, _hash(salt, customer_id, entered.strip()))


def _hash(salt: str, customer_id: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{customer_id}:{code}".encode()).hexdigest()
