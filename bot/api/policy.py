"""`GET|PUT /api/v1/store/policy`: the rules the order tools enforce for a store."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError

from bot.api.deps import MerchantStoreDep, ParleyDep
from bot.domain.errors import PolicyViolation
from bot.domain.policy import StorePolicy

router = APIRouter(prefix="/api/v1/store", tags=["store"])


class InvalidPolicy(PolicyViolation):
    """A policy document that does not validate."""

    code = "invalid_policy"


@router.get("/policy")
async def get_policy(parley: ParleyDep, store_id: MerchantStoreDep) -> dict[str, Any]:
    """The store's policy with every default filled in."""
    return StorePolicy.model_validate(await parley.stores.policy(store_id)).document()


@router.put("/policy")
async def put_policy(
    body: dict[str, Any], parley: ParleyDep, store_id: MerchantStoreDep
) -> dict[str, Any]:
    """Change the policy: the keys given replace theirs, the others keep their value."""
    before = await parley.stores.policy(store_id)
    try:
        policy = StorePolicy.model_validate({**before, **body})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise InvalidPolicy(problems) from error
    document = policy.document()
    await parley.stores.set_policy(store_id, document)
    await parley.tools.audit.record(
        store_id, "merchant", "set_policy", f"store:{store_id}", before, document
    )
    return document
