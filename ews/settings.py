"""The one validated settings module: every knob is an ``EWS_*`` environment variable.

Each field says why it exists. Settings are read once per process through :func:`get_settings`;
tests build their own :class:`Settings` and hand it to the code under test.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "ews"


def _default_store() -> str:
    # The embedded default needs no server: a DuckDB file in the user's data directory.
    return str(Path(platformdirs.user_data_dir(APP_NAME)) / "ews.duckdb")


class Settings(BaseSettings):
    """Node settings, validated on load."""

    model_config = SettingsConfigDict(env_prefix="EWS_", extra="ignore", frozen=True)

    store: str = Field(
        default_factory=_default_store,
        description="Where the store lives: a DuckDB file path (embedded default) or ':memory:'. "
        "One file holds everything so a node can be backed up by copying it. A "
        "postgresql:// URL puts it on a PostgreSQL server shared by several users and "
        "processes (docs/postgres.md); it may carry a password, so it is never shown.",
        repr=False,
    )
    store_wait: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a command waits for a DuckDB store file another process holds "
        "(DuckDB lets one process open a file at a time) before it gives up.",
    )
    env: Literal["development", "test", "production"] = Field(
        default="development",
        description="Deployment kind; production refuses unsafe defaults.",
    )
    shared_data: Path | None = Field(
        default=None,
        description="Folder of real reference data (prices, trade, news) used by the demo and "
        "tests when present; unset means 'look for ../shared/data beside the project'.",
    )
    max_file_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Largest input file accepted by ingestion; bigger files are refused before "
        "reading so a mistaken path cannot exhaust memory.",
    )
    progress: bool = Field(
        default=True,
        description="Show progress bars on long work (turned off automatically when not a TTY).",
    )
    node_id: str = Field(
        default="local",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="This node's name in alerts and audit records shared with partners.",
    )

    node_key: Path | None = Field(
        default=None,
        description="This node's Ed25519 key file (PEM); default node_key.pem in the user's "
        "config dir. Partners verify every alert this node signs with its public half.",
    )
    node_key_passphrase: SecretStr | None = Field(
        default=None,
        description="When set, the node key file is encrypted at rest with it.",
    )
    federation_ttl: float = Field(
        default=600, gt=0, description="Seconds a signed message stays valid (replay window)."
    )
    federation_skew: float = Field(
        default=120, gt=0, description="Seconds of clock difference tolerated between nodes."
    )
    federation_retry_max: float = Field(
        default=300, gt=0, description="Longest wait in seconds between delivery attempts."
    )
    federation_timeout: float = Field(
        default=10, gt=0, description="Seconds before a partner that does not answer is down."
    )
    federation_max_bytes: int = Field(
        default=1_000_000,
        gt=0,
        description="Largest message a node reads; checked before parsing (XML bombs, floods).",
    )
    federation_ca_bundle: Path | None = Field(
        default=None, description="CA file to check partners' TLS certificates."
    )
    federation_max_pages: int = Field(
        default=50,
        gt=0,
        description="Feed pages read from one partner in one sync round; the rest waits for "
        "the next round, so one partner cannot hold the round (and the partners after it).",
    )
    federation_page_items: int = Field(
        default=100,
        gt=0,
        le=100,
        description="Messages asked for per feed page (a node serves at most 100); a page "
        "holding more than asked is refused whole, with one audit record, so a partner cannot "
        "flood the audit log with refusals.",
    )
    federation_inbox_rate: float = Field(
        default=5.0,
        gt=0,
        description="Requests per second one source address may send to the node's inbox "
        "(token bucket; over it: 429 with Retry-After). An accepted message gives its token "
        "back, so a partner catching up is never slowed: only refused requests count.",
    )
    federation_inbox_burst: int = Field(
        default=60,
        gt=0,
        description="Requests one source address may send to the inbox at once before "
        "federation_inbox_rate applies.",
    )
    federation_refusal_window: float = Field(
        default=300,
        gt=0,
        description="Seconds in which repeated inbox refusals from one source address for one "
        "reason are counted, not audited one by one: the first is written, the rest as a "
        "count in the next record, so a flood cannot grow the hash-chained audit log.",
    )

    api_fresh_wait: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="Seconds a request may wait for the server's copy of a DuckDB store to "
        "catch up with a write; 0 never waits, so answers lag a write by one refresh of the "
        "copy (docs/reliability.md).",
    )
    api_max_bytes: int = Field(
        default=1_000_000,
        gt=0,
        description="Largest API request body; bigger ones get 413 before they are read.",
    )

    stream_transport: Literal["nats", "kafka"] = Field(
        default="nats",
        description="Message transport of `ews stream` when --transport is not given: NATS "
        "JetStream or Kafka.",
    )
    stream_url: str | None = Field(
        default=None,
        description="Servers of the transport (nats://host:4222,... or Kafka bootstrap "
        "host:9092,...); unset means the transport's default on this machine.",
    )
    stream_prefix: str = Field(
        default="ews",
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="First part of every subject or topic (and the JetStream stream's name), so "
        "several deployments can share one cluster.",
    )
    stream_batch: int = Field(
        default=500,
        gt=0,
        le=10_000,
        description="Messages a consumer stores in one transaction before it acknowledges them: "
        "bigger is faster, smaller redelivers less after a crash.",
    )
    stream_ack_wait: float = Field(
        default=30,
        gt=0,
        description="Seconds before a consumer that stopped answering loses its messages to "
        "the next one: JetStream's ack wait, Kafka's session timeout (at least 6).",
    )
    stream_message_ttl: float = Field(
        default=7 * 86400,
        gt=0,
        description="Seconds a signed alert on a stream stays valid: longer than a consumer may "
        "be down, since a stream, unlike a push, is read late.",
    )
    stream_nats_creds: Path | None = Field(
        default=None, description="NATS user credentials file (JWT and NKey) for a secured server."
    )
    stream_kafka_config: Path | None = Field(
        default=None,
        description="librdkafka properties file (key=value lines: security.protocol, "
        "sasl.*, ssl.*) merged into every Kafka client's configuration.",
    )

    fetch_timeout: float = Field(
        default=30,
        gt=0,
        description="Seconds `ews run` waits for a live source to connect or send the next "
        "bytes before the attempt fails (and is retried).",
    )
    fetch_max_bytes: int = Field(
        default=64 * 1024**2,
        gt=0,
        description="Largest response read from a live source; a bigger one is cut off and "
        "counted as an error (a GDELT 15-minute GKG file is a few MB).",
    )
    fetch_retries: int = Field(
        default=3,
        ge=0,
        le=10,
        description="Further attempts after a timeout, a refused connection, a 429 or a 5xx, "
        "with exponential backoff (Retry-After honoured up to fetch_backoff_max).",
    )
    fetch_backoff: float = Field(
        default=2.0,
        ge=0,
        description="Seconds before the first retry; each further retry waits twice as long.",
    )
    fetch_backoff_max: float = Field(
        default=120.0,
        ge=0,
        description="Longest wait between two attempts, whatever Retry-After asks.",
    )
    fetch_host_interval: float = Field(
        default=5.0,
        ge=0,
        description="Seconds between two requests to one host (robots.txt's Crawl-delay "
        "when longer), so a node polling many pages of one ministry stays polite.",
    )
    fetch_robots: bool = Field(
        default=True,
        description="Respect robots.txt (RFC 9309): a page it disallows for our user agent is "
        "not fetched and the source reports why.",
    )
    fetch_contact: str | None = Field(
        default=None,
        max_length=200,
        description="A URL or e-mail address added to the user agent, so a publisher can reach "
        "whoever runs this node.",
    )
    raw_dir: Path | None = Field(
        default=None,
        description="Where `ews run` keeps every raw response, named by its SHA-256 (any event "
        "can be traced to the bytes it came from); default raw/ in the user's data dir, or "
        "beside the store file.",
    )
    comtrade_key: SecretStr | None = Field(
        default=None,
        description="UN Comtrade Plus subscription key for `comtrade` live sources "
        "(sent as Ocp-Apim-Subscription-Key; never shown).",
    )
    source_stale_after: float = Field(
        default=3.0,
        gt=1,
        description="A live source is stale when its last success is older than this many of "
        "its poll intervals (plus one hour): shown as a warning in status, API and dashboard.",
    )

    spark_master: str | None = Field(
        default=None,
        description="Spark master for `--engine spark` (local[2], spark://host:7077, yarn, "
        "k8s://...); unset: the one spark-submit set, else local[*] (every core here).",
    )

    @field_validator("store")
    @classmethod
    def _store_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("EWS_STORE must not be empty")
        return value

    @property
    def store_is_memory(self) -> bool:
        """True when the store is an in-memory database (tests, throwaway runs)."""
        return self.store == ":memory:"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


def project_root() -> Path:
    """The source checkout's root (where pyproject.toml lives)."""
    return Path(__file__).resolve().parent.parent


def find_shared_data(settings: Settings | None = None) -> Path | None:
    """The real reference data folder, or None when this machine has none."""
    settings = settings or get_settings()
    candidates = [settings.shared_data] if settings.shared_data else []
    candidates += [Path.cwd().parent / "shared" / "data", project_root().parent / "shared" / "data"]
    for candidate in candidates:
        if candidate is not None and (candidate / "README.md").is_file():
            return candidate
    return None
