"""Parley's settings, read from `PARLEY_*` environment variables (nested groups with `__`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.answering import AnswerFloors

LOCAL_LLM_TIMEOUT_S = 180.0
"""The local model reads prompts at ~85 tokens/s on two free cores and far slower on a loaded
machine: a minute cut off answers that were on their way."""
PROVIDER_LLM_TIMEOUT_S = 60.0


class ServerSettings(BaseModel):
    """Where `parley serve` listens."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1


class RetrievalSettings(BaseModel):
    """How knowledge is embedded and searched."""

    embedder: str = "fused"
    """`fused` (e5 + USE), `e5`, `use`, or `st:<local model path>`."""
    top_k: int = 5
    handoff_confidence: float = 0.75
    """Below this retrieval confidence the bot hands the thread to a person..."""
    answer_min_score: float = 0.765
    """...unless the best passage's similarity reaches this..."""
    answer_min_score_same_language: float = 0.80
    """...or this, when that passage is in the shopper's language: see `AnswerFloors` (the
    floors were chosen by `python -m evals.handoff_floors`)."""

    translate_questions: bool = False
    """Search a question not in English together with the chat model's English rendering of
    it (`bot.agent.models.translation`): one short model call (1-2 s locally) before retrieval, for
    better cross-language recall. Off by default until its latency is budgeted per turn."""

    check_answers: bool = False
    """With a chat model, when retrieval's calibrated confidence is under `handoff_confidence`,
    the model is asked one yes-or-no question: do the chosen sentences answer? A no hands off
    (or answers from a close runner-up it confirms), a yes answers sentences a little under the
    similarity floors (`bot.agent.checks.answerable`). Off by default: with the local 1.5B model
    it raised the unseen store's unanswerable questions handed off from .786 to 1.00 (test
    half), but cost answerable ones (cross-language right document first .762 -> .714), added
    1-5 s before every uncalibrated answer (first token p50 4.8 -> 8.2 s at rest), and on the
    test knowledge base it said no to the refund-time passage and yes to the return window,
    so a question about refund time was answered with the 30-day return period."""

    veto_answers: bool = True
    """With a chat model, an answer that stands only on the passage floors (the search is not
    confident, the question asks for no kind of fact its best sentence states, and that
    sentence alone is not close enough: `AnswerFloors.leans_on_passage`) is put to the model
    as one yes-or-no question, and a no hands off. Unlike `check_answers` the model only
    vetoes, and only in that grey band."""

    hub_weight: float = 0.5
    """How far a passage that sits near any shopper question is ranked down (`knowledge.index.
    hubness`; the reference questions are the shipped seed and the store's asked ones, kept
    only while this is on); 0 turns it off. It only chooses which passage is cited first:
    whether to answer is decided on the order without it (`SearchResult.lead`), so the answer
    floors keep their meaning. Measured at 0.5 (`HUB_WEIGHT`): XQuAD-R English-pool R@5 .903 ->
    .925; on the shop calibration set the right document first .875 -> .953 (fit half; test
    half 1.0 both), answered and handled unchanged; on the suite without a model citation .87
    -> .88, outcome and handoff unchanged."""

    generate_questions: bool = False
    """With a chat model, a background job after indexing has it write the questions each
    chunk answers and mixes them into the chunk's vector (`knowledge.questions`), at no cost
    per turn. Off: on XQuAD-R it gained .4 points of R@5 for about 2.7 s of model time per
    chunk on two cores (`QUESTION_WEIGHT`)."""

    def floors(self) -> AnswerFloors:
        """The three thresholds as the pipeline applies them."""
        return AnswerFloors(
            confidence=self.handoff_confidence,
            other_language=self.answer_min_score,
            same_language=self.answer_min_score_same_language,
        )


class AuthSettings(BaseModel):
    """Agent and admin sign-in: how long a session lasts, how failed logins are throttled."""

    session_ttl_s: int = Field(default=12 * 3600, ge=60)
    """Seconds a console or admin login lasts; logging out revokes it before that."""
    login_window_s: int = Field(default=15 * 60, ge=1)
    """The window failed logins are counted in, from the first one."""
    login_max_per_email: int = Field(default=5, ge=1)
    """Failed logins for one email within the window; the next attempt gets 429."""
    login_max_per_address: int = Field(default=20, ge=1)
    """Failed logins from one client address within the window (higher: an office shares one)."""


class LiveSettings(BaseModel):
    """The live chat over WebSockets (`bot.live`): limits, heartbeats, turn leases."""

    max_text_chars: int = Field(default=4000, ge=1)
    """Longest shopper or agent message accepted; longer ones get an `error` frame."""
    rate_limit_messages: int = Field(default=20, ge=1)
    """Messages one widget session may send per `rate_limit_window_s`, counted across workers
    when `PARLEY_REDIS_URL` is set (the window starts with the session's first message)."""
    rate_limit_window_s: float = Field(default=60.0, gt=0)
    heartbeat_s: float = Field(default=20.0, gt=0)
    """Seconds between `ping` frames the server sends on an idle socket."""
    concurrent_turns: int = Field(default=4, ge=1)
    """Bot turns one worker runs at once (across conversations); more wait their turn. Each
    turn embeds and searches on the CPU: twenty at once on two cores thrash (measured: one reply
    per conversation in 50 s for 20 conversations) where a few at a time keep up."""
    compression: bool = False
    """permessage-deflate on the sockets: off, since chat frames are short and each compressing
    socket keeps zlib state (measured ~95 KB per idle socket with it, see `make bench`)."""
    turn_lease_s: float = Field(default=30.0, gt=0)
    """How long a worker holds a conversation's bot turns without renewing; after a worker dies
    another takes its unanswered messages over once this has passed."""


class Settings(BaseSettings):
    """Everything Parley reads from the environment; `bot.wiring` turns it into parts."""

    model_config = SettingsConfigDict(
        env_prefix="PARLEY_", env_nested_delimiter="__", env_file=None, extra="ignore"
    )

    data_dir: Path = Path(".parley")
    cache_dir: Path | None = None
    """Rebuildable artefacts (exemplar vectors, joined model files); default: DATA_DIR/cache."""
    database_url: str | None = None
    """SQLAlchemy async URL; default is a SQLite file in the data dir."""
    database_pool_size: int = Field(default=20, ge=1)
    """PostgreSQL connections each worker keeps open. A socket's message is one short statement
    and a bot turn a few short ones, but messages come in bursts (every socket of a store at
    once) and a connection opened for a burst is closed after it: twenty kept open spare
    reconnecting (asyncpg's connect and TLS probe) while the rest stay short of the cores."""
    database_pool_overflow: int = Field(default=10, ge=0)
    """Connections a worker may open beyond the pool in a burst (every worker's pool plus
    overflow must stay under the server's `max_connections`, 100 by default)."""
    redis_url: str | None = None
    """Redis for the event bus and job queue across workers; default is in-process."""
    chroma_url: str | None = None
    """Chroma server (`http://host:port`); default is an embedded index in the data dir."""
    llm: str = "local"
    """`local`, `none`, or a provider string such as `openai:gpt-4o-mini`."""
    llm_threads: int | None = Field(default=None, ge=1)
    """CPU threads of the local model; unset: chosen per answer, every core while nothing else
    runs and one fewer otherwise, or once its tokens slow down (`bot.agent.models.local.Threads`:
    llama.cpp's threads stall whenever another process takes a core)."""
    llm_timeout_s: float | None = None
    """Seconds one model answer may take before the turn falls back to a retrieval-only reply
    and offers a person; unset: `LOCAL_LLM_TIMEOUT_S` for the local model, else 60."""
    log_level: str = "INFO"
    log_json: bool = True
    session_secret: str | None = Field(default=None, repr=False)
    """Signs widget and agent tokens; default: a random secret kept in the data dir."""
    demo: bool = False
    """Seed the demo store on start (`make run` sets it)."""
    server: ServerSettings = ServerSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    auth: AuthSettings = AuthSettings()
    live: LiveSettings = LiveSettings()

    def llm_timeout_for(self, spec: str | None = None) -> float:
        """The model timeout for `spec` (default: the configured model): the setting if given."""
        if self.llm_timeout_s is not None:
            return self.llm_timeout_s
        provider = (spec or self.llm).split(":", 1)[0]
        return LOCAL_LLM_TIMEOUT_S if provider == "local" else PROVIDER_LLM_TIMEOUT_S

    @property
    def resolved_cache_dir(self) -> Path:
        """Where rebuildable artefacts are kept."""
        return self.cache_dir or self.data_dir / "cache"

    @property
    def resolved_database_url(self) -> str:
        """The database URL actually used: the setting, or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"
