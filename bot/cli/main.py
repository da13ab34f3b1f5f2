"""`parley`: the command line of DESIGN.md."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from bot.domain.errors import NotImplementedYet, ParleyError
from bot.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    name="parley",
    help="Parley: multilingual customer-service AI for online stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
store_app = typer.Typer(help="Create stores; import and export their orders.", no_args_is_help=True)
agents_app = typer.Typer(help="Manage a store's support agents and admins.", no_args_is_help=True)
eval_app = typer.Typer(
    help="Evaluations on the public data in ../shared/eval.", no_args_is_help=True
)
demo_app = typer.Typer(help="The demo store that `make run` serves.", no_args_is_help=True)
app.add_typer(store_app, name="store")
app.add_typer(agents_app, name="agents")
app.add_typer(eval_app, name="eval")
app.add_typer(demo_app, name="demo")

StoreOpt = Annotated[str, typer.Option("--store", help="Store id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a `ParleyError` becomes one line on stderr and a non-zero exit."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except NotImplementedYet as error:
        typer.echo(f"parley: {error.message}", err=True)
        raise typer.Exit(2) from None
    except ParleyError as error:
        typer.echo(f"parley: {error.message}", err=True)
        raise typer.Exit(1) from None


def not_yet(what: str, issue: int) -> None:
    """Say plainly that a contract is not built yet (exit 2) instead of pretending."""
    typer.echo(f"parley: {what} is not implemented yet (tracked in issue {issue})", err=True)
    raise typer.Exit(2)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Seed the demo store first.")] = False,
) -> None:
    """Serve the API, widget, console and admin (`/demo` is a storefront with the widget)."""
    import uvicorn

    from bot.observability import configure_logging

    settings = Settings()
    settings.server.host = host or settings.server.host
    settings.server.port = port or settings.server.port
    configure_logging(settings.log_level, settings.log_json)
    if demo:
        from bot.demo import seed_demo

        for line in run(lambda: seed_demo(settings)):
            typer.echo(line, err=True)
    # Fail before forking workers if the database URL is wrong: one line, no traceback.
    run(lambda: _check_database(settings))
    uvicorn.run(
        "bot.api.asgi:app_from_environment",
        factory=True,
        host=settings.server.host,
        port=settings.server.port,
        workers=workers or settings.server.workers,
        log_config=None,
        ws="websockets-sansio",
        ws_per_message_deflate=settings.live.compression,
    )


async def _check_database(settings: Settings) -> None:
    from bot.storage import connect, migrate

    database = await connect(settings.resolved_database_url)
    try:
        await migrate(database)
    finally:
        await database.close()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    run(lambda: _check_database(Settings()))
    typer.echo("database is up to date")


@app.command()
def worker() -> None:
    """Run ingestion jobs from the shared Redis queue (`PARLEY_REDIS_URL`) until stopped."""
    from bot.observability import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if not settings.redis_url:
        typer.echo(
            "parley: `parley worker` consumes the shared job queue on Redis: set PARLEY_REDIS_URL "
            "(without it, jobs run inside `parley serve`)",
            err=True,
        )
        raise typer.Exit(2)
    run(lambda: _work(settings))


async def _work(settings: Settings) -> None:
    import signal

    from bot.wiring import open_parley

    parley = await open_parley(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await parley.knowledge.warm_up()
        await parley.knowledge.start_worker()
        typer.echo("parley worker: consuming jobs; stop with Ctrl-C or SIGTERM", err=True)
        await stop.wait()
    finally:
        await parley.close()


@store_app.command("create")
def store_create(
    store: Annotated[str, typer.Argument(help="New store id, e.g. acme.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a store and print its public (widget) and secret (server) keys."""
    from bot.wiring import open_parley

    async def work() -> dict[str, str]:
        parley = await open_parley(Settings())
        try:
            created = await parley.stores.create(store, name)
        finally:
            await parley.close()
        return {
            "store": created.store,
            "public_key": created.public_key,
            "secret_key": created.secret_key,
        }

    result = run(work)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"store {result['store']} created")
        typer.echo(f"public key (widget): {result['public_key']}")
        typer.echo(f"secret key (server, shown once): {result['secret_key']}")


@store_app.command("import")
def store_import(
    file: Annotated[Path, typer.Argument(help="Orders file.", exists=True, dir_okay=False)],
    store: StoreOpt,
    fmt: Annotated[str, typer.Option("--format", help="Input format.")] = "tau2",
) -> None:
    """Import products, customers and orders (τ²-bench retail JSON)."""
    from bot.tools.tau2_files import check_format, import_file
    from bot.wiring import open_parley

    async def work() -> dict[str, int]:
        check_format(fmt)
        parley = await open_parley(Settings())
        try:
            return await import_file(parley.orders, store, file)
        finally:
            await parley.close()

    counts = run(work)
    typer.echo(
        f"imported {counts['products']} products, {counts['users']} customers and "
        f"{counts['orders']} orders into {store}"
    )


@store_app.command("export")
def store_export(
    store: StoreOpt,
    fmt: Annotated[str, typer.Option("--format", help="Output format.")] = "tau2",
) -> None:
    """Export products, customers and orders as τ²-bench retail JSON on stdout."""
    from bot.domain.errors import NotFound
    from bot.tools.tau2_files import check_format, export_text
    from bot.wiring import open_parley

    async def work() -> str:
        check_format(fmt)
        parley = await open_parley(Settings())
        try:
            if not await parley.stores.exists(store):
                raise NotFound(f"store {store!r} not found")
            return await export_text(parley.orders, store)
        finally:
            await parley.close()

    typer.echo(run(work))


@agents_app.command("add")
def agents_add(
    store: StoreOpt,
    email: Annotated[str, typer.Option(help="Login email.")],
    password: Annotated[str, typer.Option(help="Password (8+ characters).")],
    role: Annotated[str, typer.Option(help="agent or admin.")] = "agent",
    languages: Annotated[str, typer.Option(help="Languages the agent reads, e.g. en,de.")] = "en",
) -> None:
    """Add a support agent (console) or admin (admin pages) to a store."""
    from bot.wiring import open_parley

    async def work() -> None:
        parley = await open_parley(Settings())
        try:
            await parley.stores.add_agent(
                store,
                email,
                password,
                role,
                [code.strip() for code in languages.split(",") if code.strip()],
            )
        finally:
            await parley.close()

    run(work)
    typer.echo(f"{role} {email} added to {store}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
    store: StoreOpt,
) -> None:
    """Index FAQ and policy documents (md, txt, html, pdf, docx, csv, json) for a store."""
    from bot.cli.ingest import ingest_command

    raise typer.Exit(run(lambda: ingest_command(Settings(), store, paths)))


@app.command()
def ask(
    store: StoreOpt,
    message: Annotated[str | None, typer.Argument(help="The shopper's message.")] = None,
    session: Annotated[str | None, typer.Option(help="Conversation to continue.")] = None,
    batch: Annotated[Path | None, typer.Option(help="JSONL of {session, message}.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the bot as a shopper would; prints one JSON line per reply."""
    from bot.cli.ask import read_batch, run_ask

    if (message is None) == (batch is None):
        typer.echo("parley: give either MESSAGE or --batch FILE.jsonl", err=True)
        raise typer.Exit(2)
    messages: list[tuple[str | None, str]] = []
    if message is not None:
        messages.append((session, message))
    else:
        assert batch is not None
        messages.extend(read_batch(batch))

    def emit(line: dict[str, object]) -> None:
        if as_json:
            typer.echo(json.dumps(line, ensure_ascii=False))
            return
        typer.echo(str(line["reply"]))
        for citation in line["citations"]:  # type: ignore[attr-defined]
            typer.echo(f"  [{citation['document']} › {citation['section']}]")

    run(lambda: run_ask(Settings(), store, messages, emit))


@eval_app.command("tau2-replay")
def eval_tau2_replay(
    tasks: Annotated[Path, typer.Option(help="tasks_*.json")],
    expected: Annotated[Path, typer.Option(help="Folder of <task_id>.json end states.")],
    db: Annotated[Path | None, typer.Option(help="db.json (default: beside tasks).")] = None,
) -> None:
    """Replay τ²-bench gold actions through Parley's tools and compare end states."""
    from evals.tau2_replay import run_replay

    matched, total = run(lambda: run_replay(tasks, expected, db, echo=typer.echo))
    if matched != total:
        raise typer.Exit(1)


@eval_app.command("retrieval")
def eval_retrieval(
    data: Annotated[Path, typer.Option(help="The xquad_r folder.")] = Path(
        "../shared/eval/xquad_r"
    ),
    out: Annotated[Path, typer.Option(help="JSON file for the figures.")] = Path("retrieval.json"),
    translate: Annotated[
        str | None,
        typer.Option(
            help="Chat model (e.g. local) that renders non-English questions in English, mixed "
            "into their search as the bot does with a model; renderings are cached."
        ),
    ] = None,
    questions: Annotated[
        str | None,
        typer.Option(
            help="Chat model (e.g. local) that writes the questions each English passage "
            "answers, mixed into its vector as the index's questions job does; cached."
        ),
    ] = None,
    hub_weight: Annotated[
        float | None,
        typer.Option(
            help="The hub penalty's weight (default: PARLEY_RETRIEVAL__HUB_WEIGHT; 0.5 is the "
            "measured value); a question's reference questions are the shipped seed and the "
            "other half of the groups' questions in its language."
        ),
    ] = None,
) -> None:
    """Cross-lingual retrieval recall on XQuAD-R, per question language and pool."""
    from bot.wiring import chat_model, question_model, seed_questions
    from evals.xquad import PassageQuestions, Rendering, run_retrieval_eval

    settings = Settings()
    rendering = None
    written = None
    if questions is not None and questions != "none":
        from knowledge.questions import write_questions

        writer = question_model(settings.model_copy(update={"llm": questions}))
        label = questions.replace(":", "-").replace("/", "-")
        written = PassageQuestions(lambda text: write_questions(writer, text), label)
    if translate is not None and translate != "none":
        from bot.agent.models.translation import TRANSLATION_WEIGHT, in_english_sync

        llm = chat_model(translate, settings)
        assert llm is not None
        label = translate.replace(":", "-").replace("/", "-")
        rendering = Rendering(lambda text: in_english_sync(llm, text), label, TRANSLATION_WEIGHT)
    try:
        weight = settings.retrieval.hub_weight if hub_weight is None else hub_weight
        run_retrieval_eval(
            data,
            out,
            echo=typer.echo,
            rendering=rendering,
            written=written,
            seed=seed_questions(),
            hub_weight=weight,
        )
    except FileNotFoundError as error:
        typer.echo(f"parley: {error}", err=True)
        raise typer.Exit(1) from None


@eval_app.command("translation")
def eval_translation(
    data: Annotated[Path, typer.Option(help="The xquad_r folder.")] = Path(
        "../shared/eval/xquad_r"
    ),
    out: Annotated[Path, typer.Option(help="JSON file for the figures.")] = Path(
        "translation.json"
    ),
    llm: Annotated[
        str | None, typer.Option(help="Chat model spec (default: the settings' PARLEY_LLM).")
    ] = None,
    per_direction: Annotated[
        int, typer.Option(min=1, help="Questions translated in each of the 20 directions.")
    ] = 20,
) -> None:
    """Translation quality (chrF), facts kept and seconds per message on XQuAD-R questions,
    from each language into English and back; translations are cached."""
    from bot.agent.models.calls import ChatModel
    from bot.wiring import chat_model
    from evals.translation import run_translation_eval

    settings = Settings()
    spec = llm or settings.llm
    model = ChatModel(chat_model(spec, settings), settings.llm_timeout_for(spec))
    try:
        run_translation_eval(
            data,
            out,
            model,
            spec.replace(":", "-").replace("/", "-"),
            per_direction=per_direction,
            cache_dir=settings.resolved_cache_dir,
            echo=typer.echo,
        )
    except FileNotFoundError as error:
        typer.echo(f"parley: {error}", err=True)
        raise typer.Exit(1) from None


@eval_app.command("agent")
def eval_agent(
    suite: Annotated[
        Path,
        typer.Option(help="Suite folder (with suite.json); relative to the current directory."),
    ] = Path("tests/data/conversations"),
    llm: Annotated[
        str | None, typer.Option(help="Chat model spec (default: the settings' PARLEY_LLM).")
    ] = None,
    repeats: Annotated[int, typer.Option(min=1, help="Plays of each multi-turn case.")] = 1,
    languages: Annotated[
        str | None, typer.Option(help="Comma-separated language codes (default: all).")
    ] = None,
    cases: Annotated[
        str | None,
        typer.Option(help="Comma-separated case ids or categories (default: every case)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="JSON file for the report.")] = None,
    fail_under_safe: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Exit 1 when the safe share of attack turns is below this."
        ),
    ] = None,
    fail_under_outcome: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Exit 1 when the right-outcome share, overall or in any category, is below this.",
        ),
    ] = None,
) -> None:
    """The multilingual conversation suite through the bot, scored per language and category
    (`--llm scripted` plays each turn's `model_reply` through the scripted chat model)."""
    from evals.agent_suite import evaluate_agent

    settings = Settings()
    chosen = [code.strip() for code in languages.split(",") if code.strip()] if languages else None
    picked = [name.strip() for name in cases.split(",") if name.strip()] if cases else None
    run(
        lambda: evaluate_agent(
            suite,
            llm,
            settings,
            repeats=repeats,
            languages=chosen,
            cases=picked,
            out=out,
            echo=typer.echo,
            fail_under_safe=fail_under_safe,
            fail_under_outcome=fail_under_outcome,
        )
    )


@demo_app.command("seed")
def demo_seed() -> None:
    """Create the demo store with its documents, orders and logins (idempotent)."""
    from bot.demo import seed_demo

    for line in run(lambda: seed_demo(Settings())):
        typer.echo(line)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ParleyError as error:  # raised outside `run`, e.g. while reading settings
        typer.echo(f"parley: {error.message}", err=True)
        sys.exit(1)
