"""Seed the demo store: the store, its logins, its orders and its documents (idempotent)."""

from __future__ import annotations

import json
from contextlib import suppress
from importlib.resources import files
from pathlib import Path

from bot.domain.errors import Conflict
from bot.settings import Settings
from bot.tools.tau2_files import import_file
from bot.wiring import Parley, open_parley

DEMO_STORE = "demo"
DEMO_PUBLIC_KEY = "pk_demo_storefront"
DEMO_ADMIN = ("admin@demo.parley.local", "demo-admin-pass")
DEMO_AGENTS = (
    ("agent@demo.parley.local", "demo-agent-pass", ["en", "de", "fr"]),
    ("agente@demo.parley.local", "demo-agent-pass", ["es", "pt", "en"]),
)


def demo_files() -> Path:
    """The folder holding the demo store's documents and orders."""
    return Path(str(files("bot.demo")))


async def seed_demo(settings: Settings) -> list[str]:
    """Create what is missing of the demo store and return the lines to show the operator."""
    parley = await open_parley(settings)
    try:
        return await _seed(parley, settings)
    finally:
        await parley.close()


async def _seed(parley: Parley, settings: Settings) -> list[str]:
    lines: list[str] = []
    keys_file = settings.data_dir / "demo-keys.json"
    if not await parley.stores.exists(DEMO_STORE):
        created = await parley.stores.create(
            DEMO_STORE, "Parley Demo Store", public_key=DEMO_PUBLIC_KEY
        )
        keys_file.write_text(json.dumps({"store": DEMO_STORE, "secret_key": created.secret_key}))
        keys_file.chmod(0o600)
        counts = await import_file(parley.orders, DEMO_STORE, demo_files() / "orders.json")
        lines.append(
            f"demo store {DEMO_STORE!r} created with {counts['products']} products, "
            f"{counts['users']} customers and {counts['orders']} orders"
        )
    with suppress(Conflict):  # already there from an earlier run
        await parley.stores.add_agent(DEMO_STORE, DEMO_ADMIN[0], DEMO_ADMIN[1], "admin", ["en"])
    for email, password, languages in DEMO_AGENTS:
        with suppress(Conflict):
            await parley.stores.add_agent(DEMO_STORE, email, password, "agent", languages)
    lines.append(await _seed_documents(parley))
    base = f"http://{settings.server.host}:{settings.server.port}"
    lines += [
        f"storefront with widget: {base}/demo",
        f"agent console:          {base}/console   login {DEMO_AGENTS[0][0]} / {DEMO_AGENTS[0][1]}",
        f"merchant admin:         {base}/admin     login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}",
    ]
    if keys_file.exists():
        lines.append(f"merchant API secret key is in {keys_file}")
    return lines


async def _seed_documents(parley: Parley) -> str:
    """Index the demo store's policy and FAQ files; unchanged files are skipped on reruns."""
    folder = demo_files() / "documents"
    paths = sorted(path for path in folder.iterdir() if path.is_file())
    job = await parley.knowledge.ingest_paths(DEMO_STORE, paths)
    statuses = [result["status"] for result in job.payload.get("results", [])]
    summary = f"demo documents: {statuses.count('indexed')} indexed"
    summary += f", {statuses.count('unchanged')} unchanged, {len(job.errors)} failed"
    return summary
