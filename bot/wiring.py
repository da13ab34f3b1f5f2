"""The composition root: the one place that reads settings and builds the parts (database,
repositories, bus, index, job queue, chat models, the hub penalty's seed)."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio

from bot.agent.intents import Exemplar, IntentRouter
from bot.agent.pipeline import TurnPipeline
from bot.domain.errors import ConfigurationError, ServiceUnavailable
from bot.jobs import JobQueue, JobRepository, JobRunner, make_queue
from bot.knowledge_base import INGEST_JOB, QUESTIONS_JOB, REINDEX_JOB, KnowledgeBase
from bot.live import LiveChat
from bot.logins import LoginState, make_login_state
from bot.realtime import EventBus, MemoryBus, RedisBus
from bot.settings import Settings
from bot.storage import (
    ConversationRepository,
    Database,
    PoolSize,
    StoreRepository,
    connect,
    migrate,
)
from bot.storage.order_actions import CustomerBinding, PendingActionRepository
from bot.storage.order_audit import AuditLog
from bot.storage.order_cases import CaseRepository
from bot.storage.order_handoffs import HandoffNotes
from bot.storage.orders import SqlOrderStore
from bot.tools.context import ToolServices
from bot.tools.store import OrderStore
from knowledge import IndexUnavailable, VectorIndex, connect_index, make_embedder
from knowledge.embeddings import Embedder, Vectors
from knowledge.index.hubness import Seed

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from bot.translation import Interpreter

log = logging.getLogger(__name__)


@dataclass
class Parley:
    """Everything a request handler, CLI command or job needs, opened once per process."""

    settings: Settings
    database: Database
    bus: EventBus
    index: VectorIndex
    """The vector index (`knowledge`), embedded Chroma or a Chroma server."""
    jobs: JobQueue
    secret: str
    """Signs widget and agent tokens; shared by every worker through settings or the data dir."""
    stores: StoreRepository = field(init=False)
    conversations: ConversationRepository = field(init=False)
    orders: OrderStore = field(init=False)
    """Products, customers and orders the order tools work on (built-in SQL store)."""
    runner: JobRunner = field(init=False)
    """Runs the queued jobs with the handler registered for their kind."""
    knowledge: KnowledgeBase = field(init=False)
    logins: LoginState = field(init=False)
    """Failed-login counters and revoked sessions, shared by workers through Redis if set."""
    tools: ToolServices = field(init=False)
    """The order tools' repositories, sharing this Parley's stores, conversations and orders."""
    live: LiveChat = field(init=False)
    """The live chat of this worker: sockets' actions and the bot turns they start."""
    _agent: TurnPipeline | None = field(default=None, init=False, repr=False)
    _agent_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self.stores = StoreRepository(self.database)
        self.runner = JobRunner(JobRepository(self.database), self.jobs)
        self.knowledge = KnowledgeBase(
            self.database,
            self.index,
            self.runner,
            self.settings.data_dir,
            question_writer=question_writer(self.settings),
        )
        self.runner.register(INGEST_JOB, self.knowledge.ingestion.run)
        self.runner.register(REINDEX_JOB, self.knowledge.ingestion.run)
        self.runner.register(QUESTIONS_JOB, self.knowledge.questions.run)
        self.conversations = ConversationRepository(self.database)
        self.orders = SqlOrderStore(self.database)
        self.logins = make_login_state(self.settings.redis_url)
        self.tools = tool_services(
            self.database, self.orders, stores=self.stores, conversations=self.conversations
        )
        self.live = LiveChat(
            conversations=self.conversations,
            stores=self.stores,
            bus=self.bus,
            pipeline=self.agent,
            interpreter=self.interpreter,
            settings=self.settings.live,
            counters=self.logins,
            worker=f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}",
        )

    async def agent(self) -> TurnPipeline:
        """The turn pipeline, built on first use: it loads the intent router and chat model."""
        async with self._agent_lock:  # the warm-up and a first request must not build it twice
            if self._agent is None:
                self._agent = await anyio.to_thread.run_sync(
                    build_agent, self, abandon_on_cancel=True
                )
            return self._agent

    async def warm_model(self) -> int:
        """Build the turn pipeline and have a local chat model read its answer prompt's fixed
        part (instructions and worked example) now, so the first shopper's answer reads only
        its own question and sentences. Returns the tokens kept (0: no local model)."""
        from bot.agent.models.local import LocalChatModel
        from bot.agent.prompts import restate_prompt

        llm = (await self.agent()).model.llm
        if not isinstance(llm, LocalChatModel):
            return 0
        prompt = restate_prompt("", [""], "", "en")
        return await anyio.to_thread.run_sync(llm.keep_prefix, prompt, abandon_on_cancel=True)

    async def interpreter(self) -> Interpreter:
        """Translation for the agent console, on the turn pipeline's chat model (one local
        model in memory, its calls bounded by the same timeout)."""
        from bot.storage.translations import TranslationRepository
        from bot.translation import Interpreter

        agent = await self.agent()
        return Interpreter(self.conversations, TranslationRepository(self.database), agent.model)

    async def readiness(self) -> dict[str, str]:
        """`ok` or the reason, for each backing service."""
        checks: dict[str, str] = {}
        for name, probe in (
            ("database", self.database.ping),
            ("bus", self.bus.ping),
            ("index", self._ping_index),
        ):
            try:
                await probe()
                checks[name] = "ok"
            except ServiceUnavailable as error:
                checks[name] = error.message
        return checks

    async def _ping_index(self) -> None:
        try:
            await self.index.ping()
        except IndexUnavailable as error:
            raise ServiceUnavailable(f"vector index unreachable: {error.message}") from error

    async def close(self) -> None:
        """Close every connection this process opened."""
        await self.live.close()
        await self.runner.close()
        await self.jobs.close()
        await anyio.to_thread.run_sync(self.index.close)
        await self.bus.close()
        await self.logins.close()
        await self.database.close()


def make_bus(settings: Settings) -> EventBus:
    """Redis pub/sub when `PARLEY_REDIS_URL` is set, else in-process."""
    if settings.redis_url:
        return RedisBus(settings.redis_url)
    return MemoryBus()


def open_index(settings: Settings) -> VectorIndex:
    """The knowledge index: a Chroma server when `PARLEY_CHROMA_URL` is set (`memory://`: in
    this process), else embedded Chroma in the data dir; embeddings from
    `PARLEY_RETRIEVAL__EMBEDDER` (models load on first use)."""
    from urllib.parse import urlparse

    url = urlparse(settings.chroma_url or "")
    if settings.chroma_url and not url.hostname and url.scheme != "memory":
        raise ConfigurationError(f"PARLEY_CHROMA_URL is not a URL: {settings.chroma_url!r}")
    try:
        embedder = make_embedder(settings.retrieval.embedder)
    except (ValueError, FileNotFoundError) as error:
        raise ConfigurationError(f"PARLEY_RETRIEVAL__EMBEDDER: {error}") from error
    index = connect_index(settings.chroma_url, settings.data_dir / "chroma", embedder)
    index.asked.seed = reference_seed(settings, embedder)
    index.hub_weight = settings.retrieval.hub_weight
    return index


async def open_parley(settings: Settings, *, run_migrations: bool = True) -> Parley:
    """Connect every backing service and migrate the schema; one clear error on failure."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pool = PoolSize(settings.database_pool_size, settings.database_pool_overflow)
    database = await connect(settings.resolved_database_url, pool)
    try:
        if run_migrations:
            await migrate(database)
        bus = make_bus(settings)
        index = await anyio.to_thread.run_sync(open_index, settings)
    except BaseException:
        await database.close()
        raise
    return Parley(
        settings=settings,
        database=database,
        bus=bus,
        index=index,
        jobs=make_queue(settings.redis_url),
        secret=session_secret(settings),
    )


def session_secret(settings: Settings) -> str:
    """`PARLEY_SESSION_SECRET`, or a random one kept in the data dir so all workers agree."""
    if settings.session_secret:
        return settings.session_secret
    path = settings.data_dir / "session-secret"
    try:  # O_EXCL: when several workers start at once, exactly one writes the secret.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def tool_services(
    database: Database,
    orders: OrderStore,
    *,
    stores: StoreRepository | None = None,
    conversations: ConversationRepository | None = None,
) -> ToolServices:
    """The order tools' repositories on `database` with `orders` as the order store; a Parley
    hands in the store and conversation repositories it already holds."""
    return ToolServices(
        orders=orders,
        actions=PendingActionRepository(database),
        cases=CaseRepository(database),
        bindings=CustomerBinding(database),
        conversations=conversations or ConversationRepository(database),
        stores=stores or StoreRepository(database),
        audit=AuditLog(database),
        handoffs=HandoffNotes(database),
    )


def chat_model(spec: str, settings: Settings) -> BaseChatModel | None:
    """The chat model `spec` names (`local`, `none`, `openai:…`), configured from `settings`;
    blocking (local weights are joined and loaded), so run it off the event loop."""
    from bot.agent.models.providers import make_chat_model

    return make_chat_model(spec, settings)


def build_agent(parley: Parley) -> TurnPipeline:
    """The turn pipeline on this process's parts; blocking (loads models), so run in a thread."""
    settings = parley.settings
    return TurnPipeline(
        conversations=parley.conversations,
        stores=parley.stores,
        retriever=parley.index,
        router=intent_router(parley),
        tools=parley.tools,
        llm=chat_model(settings.llm, settings),
        llm_timeout_s=settings.llm_timeout_for(),
        floors=settings.retrieval.floors(),
        translate_questions=settings.retrieval.translate_questions,
        # Only with the model this process was configured with: a harness that swaps in a
        # scripted model plays one reply a turn and turns the check on itself if it wants it.
        check_answers=settings.retrieval.check_answers and settings.llm != "none",
        veto_answers=settings.retrieval.veto_answers and settings.llm != "none",
        top_k=settings.retrieval.top_k,
        embed=parley.index.embedder.embed_queries,
    )


class QuestionWriter:
    """`knowledge.questions.write_questions` with the configured chat model, loaded on first
    use. The local model gets an instance of its own, so a background job does not evict the
    chat's cached prompt (a 1,200-token prefix takes ~14 s to read again)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._llm: BaseChatModel | None = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> list[str]:
        from knowledge.questions import write_questions

        with self._lock:
            if self._llm is None:
                self._llm = question_model(self.settings)
        return write_questions(self._llm, text)


def question_model(settings: Settings) -> BaseChatModel:
    """The chat model that writes questions: the configured one (a second local instance)."""
    llm = chat_model(settings.llm, settings)
    if llm is None:
        raise ConfigurationError("writing questions needs a chat model (PARLEY_LLM)")
    from bot.agent.models.local import LocalChatModel

    if isinstance(llm, LocalChatModel):
        llm = llm.model_copy(update={"n_ctx": QUESTION_CONTEXT})
    return llm


QUESTION_CONTEXT = 1024
"""Tokens of context for the local question writer: the instruction and one chunk fit."""


def question_writer(settings: Settings) -> QuestionWriter | None:
    """The question writer when questions are on and a chat model is configured."""
    if settings.llm == "none" or not settings.retrieval.generate_questions:
        return None
    return QuestionWriter(settings)


def intent_router(parley: Parley) -> IntentRouter:
    """The embedding intent router; exemplar vectors are cached per model."""
    from bot.agent.intents import IntentRouter, exemplar_vectors, load_aims

    embedder = parley.index.embedder
    exemplars, vectors = embedded_exemplars(parley.settings, embedder)
    aims = load_aims()
    aim_vectors = exemplar_vectors(
        embedder.embed_queries,
        aims,
        model=embedder.name,
        cache_dir=parley.settings.resolved_cache_dir,
    )
    return IntentRouter(
        embedder.embed_queries, exemplars, vectors=vectors, aims=aims, aim_vectors=aim_vectors
    )


def embedded_exemplars(settings: Settings, embedder: Embedder) -> tuple[list[Exemplar], Vectors]:
    """The intent router's exemplars (16 languages) and their query vectors, embedded once per
    model and kept in the cache dir."""
    from bot.agent.intents import exemplar_vectors, load_exemplars

    exemplars = load_exemplars()
    vectors = exemplar_vectors(
        embedder.embed_queries,
        exemplars,
        model=embedder.name,
        cache_dir=settings.resolved_cache_dir,
    )
    return exemplars, vectors


def seed_questions() -> list[tuple[str, str]]:
    """The hub penalty's shipped reference questions as `(language, text)`: the intent
    router's exemplars, for callers that embed them themselves (the retrieval evaluation)."""
    from bot.agent.intents import load_exemplars

    return [(exemplar.language, exemplar.text) for exemplar in load_exemplars()]


def reference_seed(settings: Settings, embedder: Embedder) -> Seed:
    """The shipped reference questions of the hub penalty (`knowledge.index.hubness`): the
    intent router's exemplars, from the router's cache."""

    def load() -> tuple[Vectors, list[str]]:
        exemplars, vectors = embedded_exemplars(settings, embedder)
        return vectors, [exemplar.language for exemplar in exemplars]

    return load
