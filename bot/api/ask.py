"""`POST /api/v1/ask`: the bot's answer as `parley ask --json` prints it (headless use, tests)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.api.deps import MerchantStoreDep, ParleyDep
from bot.shopper import ask

router = APIRouter(prefix="/api/v1", tags=["ask"])


class AskRequest(BaseModel):
    """A shopper message, optionally continuing a named session."""

    message: str = Field(min_length=1, max_length=4000)
    session: str | None = Field(default=None, max_length=128)


@router.post("/ask")
async def ask_bot(body: AskRequest, store: MerchantStoreDep, parley: ParleyDep) -> dict[str, Any]:
    """Run one turn of the store's bot and return the contract's JSON object."""
    return await ask(parley, store, body.message, body.session)
