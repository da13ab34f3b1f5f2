"""A store's rules for the order tools: return window, refund limits, confirmations, disputes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.domain.errors import NotVerified, PolicyViolation
from bot.domain.hours import SupportHours, check_week, zone


class DisputeRouting(StrEnum):
    """When an opened dispute goes to a person."""

    ALWAYS = "always"
    CHARGEBACK_ONLY = "chargeback_only"
    """Only card chargebacks (a bank is involved) go to a person; other disputes wait for
    the shopper to accept an offer first."""
    NEVER = "never"


class Remedy(StrEnum):
    """What the bot may offer before a dispute escalates."""

    REFUND = "refund"
    RETURN = "return"
    REPLACEMENT = "replacement"


class Verification(StrEnum):
    """Ways a shopper can prove who they are."""

    EMAIL = "email"
    NAME_ZIP = "name_zip"
    SIGNED = "signed"
    """The storefront's signed identity of a logged-in customer (HMAC of the user id)."""
    EMAIL_ORDER = "email_order"
    """The account's email together with the number of one of its orders, given before the
    bot showed any (as a shop's guest order page asks)."""
    CODE = "code"
    """A one-time code sent to the account's email and typed back in the chat."""


WRITE_VERIFICATION_DEFAULT = (
    Verification.EMAIL_ORDER,
    Verification.NAME_ZIP,
    Verification.SIGNED,
    Verification.CODE,
)
"""Who may have the bot change an order or an account: not someone who only knows an email."""


class StorePolicy(BaseModel):
    """The order-tool part of a store's policy document; other keys are kept as they are."""

    model_config = ConfigDict(extra="allow")

    return_window_days: int | None = Field(default=30, ge=0)
    """Days after delivery in which items can be returned or exchanged; `None`: no limit."""
    auto_approve_refund_limit: Decimal | None = Field(default=Decimal("500.00"), ge=0)
    """Largest refund the bot may carry out on its own; above it a person decides."""
    verification: list[Verification] = Field(
        default_factory=lambda: [Verification.EMAIL, Verification.NAME_ZIP, Verification.SIGNED]
    )
    """How shoppers may verify; a store can insist on its own login (`["signed"]`)."""
    write_verification: list[Verification] = Field(
        default_factory=lambda: list(WRITE_VERIFICATION_DEFAULT)
    )
    """Ways of verifying that let the bot change an order or an account (reads need any of
    `verification`); by default an email address alone is not enough."""
    confirmation_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    """How long a proposed action waits for the shopper's yes."""
    dispute_routing: DisputeRouting = DisputeRouting.ALWAYS
    dispute_offers: list[Remedy] = Field(
        default_factory=lambda: [Remedy.REFUND, Remedy.RETURN, Remedy.REPLACEMENT]
    )
    """Remedies offered first, in this order, when the order's state allows them."""
    support_hours: dict[str, list[str]] | None = None
    """When people answer shoppers, per weekday in `time_zone`: `{"mon": ["09:00-17:00"]}`;
    `None`: someone is always on duty. Outside them a handed-off shopper is told when a person
    is back and may leave an email address."""
    time_zone: str = "UTC"
    """The store's IANA time zone (`Europe/Berlin`), for its support hours."""

    @field_validator("support_hours")
    @classmethod
    def _valid_week(cls, week: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        return None if week is None else check_week(week)

    @field_validator("time_zone")
    @classmethod
    def _valid_zone(cls, name: str) -> str:
        zone(name)
        return name

    def support(self) -> SupportHours | None:
        """The store's support hours, or `None` if someone is always on duty."""
        if self.support_hours is None:
            return None
        return SupportHours(self.support_hours, self.time_zone)

    def check_refund(self, amount: Decimal) -> None:
        """Raise `AboveRefundLimit` if a refund of `amount` needs a person's approval."""
        limit = self.auto_approve_refund_limit
        if limit is not None and amount > limit:
            raise AboveRefundLimit(
                f"A refund of {amount:.2f} is above the {limit:.2f} I may approve on my own; "
                "a person from the store has to approve it.",
                details={"amount": f"{amount:.2f}", "limit": f"{limit:.2f}"},
            )

    def check_return_window(self, delivered_at: datetime | None, now: datetime) -> None:
        """Raise `OutsideReturnWindow` if the delivery is older than the window allows."""
        if self.return_window_days is None or delivered_at is None:
            return
        if now - delivered_at > timedelta(days=self.return_window_days):
            raise OutsideReturnWindow(
                f"This order was delivered on {delivered_at:%Y-%m-%d}; returns and exchanges "
                f"are possible within {self.return_window_days} days of delivery.",
                details={
                    "delivered": f"{delivered_at:%Y-%m-%d}",
                    "days": self.return_window_days,
                },
            )

    def check_verification(self, method: Verification) -> None:
        """Raise `VerificationNotAllowed` unless the store accepts this way of verifying."""
        if method not in self.verification:
            raise VerificationNotAllowed(
                "This store verifies shoppers through their account on the storefront; "
                "please sign in there and open the chat again."
            )

    def allows_write(self, verified_by: Iterable[str]) -> bool:
        """True when one of the ways the shopper verified lets the bot change their orders."""
        return any(method in self.write_verification for method in verified_by)

    def check_write(self, verified_by: Iterable[str]) -> None:
        """Raise `StrongerVerificationNeeded` unless one of the ways the shopper verified
        lets the bot change their orders or account."""
        proofs = sorted(set(verified_by))
        if not self.allows_write(proofs):
            raise StrongerVerificationNeeded(
                "Knowing the account's email is enough to see its orders, not to change them: "
                "please confirm with the one-time code sent to that email, or give your name "
                "and zip code.",
                details={
                    "verified_by": proofs,
                    "needs_one_of": [method.value for method in self.write_verification],
                },
            )

    def document(self) -> dict[str, Any]:
        """The policy as JSON for storage and the API."""
        return self.model_dump(mode="json")


def tau2_policy() -> StorePolicy:
    """τ²-bench's retail policy has no return window and no refund limit, and acts for a
    shopper verified by email alone."""
    return StorePolicy(
        return_window_days=None,
        auto_approve_refund_limit=None,
        write_verification=[Verification.EMAIL, *WRITE_VERIFICATION_DEFAULT],
    )


class AboveRefundLimit(PolicyViolation):
    """The refund is larger than the store lets the bot approve."""

    code = "above_refund_limit"


class OutsideReturnWindow(PolicyViolation):
    """The return window has passed."""

    code = "outside_return_window"


class VerificationNotAllowed(PolicyViolation):
    """The store does not accept this way of verifying a shopper."""

    code = "verification_not_allowed"


class StrongerVerificationNeeded(NotVerified):
    """The shopper proved who they are well enough to read, not to write (an email alone)."""

    code = "stronger_verification_needed"
