"""The uvicorn entry point: an app built from the environment in each worker process."""

from __future__ import annotations

from fastapi import FastAPI

from bot.api.app import create_app
from bot.observability import configure_logging
from bot.settings import Settings


def app_from_environment() -> FastAPI:
    """Read `PARLEY_*` settings and build the app (called once per worker)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
