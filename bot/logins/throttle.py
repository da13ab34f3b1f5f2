"""Failed logins slow an attacker down: per email and per client address, in a time window."""

from __future__ import annotations

import hashlib

from bot.domain.errors import TooManyAttempts
from bot.logins._base import LoginState


class LoginThrottle:
    """Counts every login attempt before the password is checked, and takes back the ones that
    succeed: parallel guesses cannot slip past the limit while a check is running."""

    def __init__(
        self,
        state: LoginState,
        *,
        max_per_email: int,
        max_per_address: int,
        window_s: int,
    ) -> None:
        self.state = state
        self.max_per_email = max_per_email
        self.max_per_address = max_per_address
        self.window_s = window_s

    async def attempt(self, email: str, address: str) -> None:
        """Count an attempt; `TooManyAttempts` if the email or the address is over its limit."""
        for key, limit in (
            (_email_key(email), self.max_per_email),
            (_address_key(address), self.max_per_address),
        ):
            strikes = await self.state.hit(key, self.window_s)
            if strikes.count > limit:
                raise TooManyAttempts(
                    f"too many failed logins; try again in {strikes.retry_after_s} s",
                    retry_after_s=strikes.retry_after_s,
                )

    async def succeeded(self, email: str, address: str) -> None:
        """A good password: the email starts afresh, the address gets this attempt back."""
        await self.state.clear(_email_key(email))
        await self.state.forgive(_address_key(address))


def _email_key(email: str) -> str:
    # Hashed so the shared Redis holds no agent's address in its key names.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"parley:login:email:{digest}"


def _address_key(address: str) -> str:
    return f"parley:login:address:{address}"
