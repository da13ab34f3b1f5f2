"""Store policy: defaults, validation, the checks the tools call, case states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bot.domain.errors import Conflict
from bot.domain.orders import CaseState, move_case
from bot.domain.policy import (
    AboveRefundLimit,
    DisputeRouting,
    OutsideReturnWindow,
    StorePolicy,
    tau2_policy,
)

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_defaults_and_other_keys_survive_a_round_trip() -> None:
    policy = StorePolicy.model_validate({"theme": {"color": "#123456"}, "return_window_days": 14})
    document = policy.document()
    assert document["theme"] == {"color": "#123456"}
    assert document["auto_approve_refund_limit"] == "500.00"
    assert document["dispute_routing"] == "always"
    assert StorePolicy.model_validate(document) == policy


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        StorePolicy.model_validate({"return_window_days": -3})
    with pytest.raises(ValidationError):
        StorePolicy.model_validate({"dispute_routing": "sometimes"})
    with pytest.raises(ValidationError):
        StorePolicy.model_validate({"auto_approve_refund_limit": "-1"})


def test_refund_limit() -> None:
    policy = StorePolicy(auto_approve_refund_limit=Decimal("100"))
    policy.check_refund(Decimal("100.00"))
    with pytest.raises(AboveRefundLimit, match=r"100\.01"):
        policy.check_refund(Decimal("100.01"))
    tau2_policy().check_refund(Decimal("1e9"))


def test_return_window() -> None:
    policy = StorePolicy(return_window_days=30)
    policy.check_return_window(NOW - timedelta(days=30), NOW)
    policy.check_return_window(None, NOW)  # unknown delivery date: nothing to hold against
    with pytest.raises(OutsideReturnWindow, match="within 30 days"):
        policy.check_return_window(NOW - timedelta(days=31), NOW)
    tau2_policy().check_return_window(NOW - timedelta(days=3000), NOW)
    assert StorePolicy().dispute_routing is DisputeRouting.ALWAYS


def test_case_states_end_in_resolved_lost_or_won() -> None:
    state = move_case(CaseState.OPEN, CaseState.AWAITING_MERCHANT)
    state = move_case(state, CaseState.AWAITING_CUSTOMER)
    assert move_case(state, CaseState.WON) is CaseState.WON
    for final in (CaseState.RESOLVED, CaseState.LOST, CaseState.WON):
        with pytest.raises(Conflict):
            move_case(final, CaseState.OPEN)
