"""Support hours in the store's time zone: whether a person is on duty, and when one is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bot.domain.hours import SupportHours
from bot.domain.policy import StorePolicy

WEEKDAYS_9_TO_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def test_inside_the_hours_someone_is_on_duty() -> None:
    hours = SupportHours(WEEKDAYS_9_TO_5, "Europe/Berlin")
    # Monday 2026-12-07 10:00 UTC is 11:00 in Berlin.
    assert hours.back_at(datetime(2026, 12, 7, 10, 0, tzinfo=UTC)) is None


def test_after_hours_the_next_shift_is_given_in_the_stores_zone() -> None:
    hours = SupportHours(WEEKDAYS_9_TO_5, "Europe/Berlin")
    back = hours.back_at(datetime(2026, 12, 7, 17, 30, tzinfo=UTC))  # Monday 18:30 in Berlin
    assert back is not None and back.isoformat() == "2026-12-08T09:00:00+01:00"


def test_on_friday_evening_the_shift_after_the_weekend() -> None:
    hours = SupportHours(WEEKDAYS_9_TO_5, "America/New_York")
    back = hours.back_at(datetime(2026, 12, 12, 0, 0, tzinfo=UTC))  # Friday 19:00 in New York
    assert back is not None and back.isoformat() == "2026-12-14T09:00:00-05:00"


def test_a_shift_until_midnight_and_a_week_without_hours() -> None:
    late = SupportHours({"mon": ["18:00-24:00"]}, "UTC")
    assert late.back_at(datetime(2026, 12, 7, 23, 59, tzinfo=UTC)) is None
    assert SupportHours({}, "UTC").back_at(datetime(2026, 12, 7, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    "document",
    [
        {"support_hours": {"monday": ["09:00-17:00"]}},
        {"support_hours": {"mon": ["9-17"]}},
        {"support_hours": {"mon": ["17:00-09:00"]}},
        {"time_zone": "Mars/Olympus_Mons"},
    ],
)
def test_a_store_policy_with_bad_hours_or_zone_is_refused(document: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        StorePolicy.model_validate(document)


def test_the_policy_carries_hours_and_zone() -> None:
    policy = StorePolicy.model_validate(
        {"support_hours": WEEKDAYS_9_TO_5, "time_zone": "Asia/Tokyo"}
    )
    assert policy.support() == SupportHours(WEEKDAYS_9_TO_5, "Asia/Tokyo")
    assert StorePolicy().support() is None  # unset: someone is always on duty
