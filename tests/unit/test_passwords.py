"""Agent passwords: argon2id now, and the scrypt hashes stored before still open the door once."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher

from bot.domain.passwords import check_password, hash_password


def legacy_scrypt_hash(password: str) -> str:
    """A hash as Parley stored it before argon2 (`scrypt$N$r$p$salt$digest`)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


def test_a_new_hash_is_argon2id_and_checks_only_its_password() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert check_password("correct horse", stored).matches
    assert not check_password("correct horsf", stored).matches
    assert not check_password("correct horse", stored).needs_rehash
    assert hash_password("correct horse") != stored  # salted


def test_a_legacy_scrypt_hash_still_matches_and_asks_to_be_upgraded() -> None:
    stored = legacy_scrypt_hash("s3cret-pass")
    good = check_password("s3cret-pass", stored)
    assert good.matches and good.needs_rehash
    assert not check_password("s3cret-pasS", stored).matches


def test_an_argon2_hash_with_weaker_parameters_asks_to_be_upgraded() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("s3cret-pass")
    check = check_password("s3cret-pass", weak)
    assert check.matches and check.needs_rehash


def test_damaged_or_unknown_hashes_never_match() -> None:
    for stored in (
        "",
        "plain-text-password",
        "scrypt$16384$8$1$zz$00",
        "scrypt$only$three",
        "$argon2id$v=19$m=65536,t=3,p=4$garbage",
        "bcrypt$whatever",
    ):
        assert not check_password("plain-text-password", stored).matches, stored
