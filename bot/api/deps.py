"""Request dependencies: the process's `Parley` and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from bot.wiring import Parley


def get_parley(request: Request) -> Parley:
    """The `Parley` opened in the app's lifespan."""
    parley: Parley = request.state.parley
    return parley


ParleyDep = Annotated[Parley, Depends(get_parley)]
