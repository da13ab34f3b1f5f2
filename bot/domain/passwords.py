"""Agent passwords: argon2id hashes; older scrypt hashes still verify and are marked for rehash."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
"""argon2-cffi's defaults (argon2id, RFC 9106's low-memory profile: 64 MiB, 3 passes)."""


@dataclass(frozen=True)
class PasswordCheck:
    """Whether a password matched its stored hash, and whether that hash should be replaced."""

    matches: bool
    needs_rehash: bool = False


def hash_password(password: str) -> str:
    """An argon2id hash with a random salt, in the self-describing PHC string format.

    Blocking (~0.15 s of CPU): call it off the event loop."""
    return _HASHER.hash(password)


def check_password(password: str, stored: str) -> PasswordCheck:
    """Constant-time check of `password` against an argon2 or a legacy scrypt hash.

    A match on a scrypt hash, or on an argon2 hash with weaker parameters than today's, asks
    for a rehash so the stored hash is upgraded on that login. Blocking: call it off the loop."""
    if stored.startswith("$argon2"):
        try:
            _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return PasswordCheck(matches=False)
        return PasswordCheck(matches=True, needs_rehash=_HASHER.check_needs_rehash(stored))
    if stored.startswith("scrypt$"):
        return PasswordCheck(matches=_scrypt_matches(password, stored), needs_rehash=True)
    return PasswordCheck(matches=False)


def spend_check_time(password: str) -> None:
    """Take as long as a real check, so a login for an unknown email is not told apart by time."""
    check_password(password, _decoy_hash())


@cache
def _decoy_hash() -> str:
    return _HASHER.hash("decoy password, never anyone's")


def _scrypt_matches(password: str, stored: str) -> bool:
    # The format Parley wrote before argon2: scrypt$N$r$p$salt-hex$digest-hex.
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        candidate = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)
