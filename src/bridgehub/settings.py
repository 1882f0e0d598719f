"""The hub's settings, read from the environment (and a `.env` file when present)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRIDGEHUB_", env_file=".env", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "BRIDGEHUB_DATABASE_URL"),
        description="PostgreSQL to use; when unset the hub runs its own in `home`/pgdata.",
    )
    home: Path = Field(
        default=Path(".bridgehub"), description="Data folder: embedded database, keys."
    )
    admin_key: SecretStr | None = Field(
        default=None, description="Admin API key; when unset one is generated on first start."
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated `id:base64-key` AES-256 keys, newest first; "
        "when unset, a key file in `home` is used (created on first start).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach the hub; OAuth 2.0 providers send them back "
        "to its /oauth/callback.",
    )
    allow_private_networks: bool = Field(
        default=False, description="Allow bridges on loopback, private and link-local addresses."
    )
    allow_http: bool = Field(default=False, description="Allow bridges over plain http://.")
    token_refresh_margin_seconds: int = Field(
        default=300,
        ge=0,
        description="Refresh OAuth 2.0 access tokens this long before they expire.",
    )
    oauth_state_ttl_seconds: int = Field(
        default=900,
        ge=60,
        description="How long a person has to complete an OAuth 2.0 authorization.",
    )
    sync_max_pages: int = Field(
        default=10_000, ge=1, description="A sync run stops with an error after this many pages."
    )
    sync_max_delete_fraction: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A full sync that would remove more than this share of an activation's "
        "contacts removes none and holds them until a person confirms.",
    )
    workers: int = Field(
        default=4,
        ge=0,
        description="Jobs each `serve` process runs at once in its own worker; 0 makes it "
        "API-only, leaving jobs to `bridgehub worker` processes.",
    )
    interactions_timeout_seconds: float = Field(
        default=4.0,
        gt=0,
        description="How long each bridge has to answer a contact's interactions.",
    )
    interactions_cache_seconds: float = Field(
        default=30.0, ge=0, description="How long a contact's interactions are reused (0: never)."
    )
    execution_max_attempts: int = Field(
        default=5, ge=1, description="Attempts of an action on transient failures before it fails."
    )
    execution_retry_seconds: float = Field(
        default=2.0, gt=0, description="First pause before an action is tried again; it doubles."
    )
    execution_replay_seconds: float = Field(
        default=300.0,
        gt=0,
        description="First pause before a failed execution of an automation that replays is "
        "replayed; later pauses are 6, 12, 36 and 72 times it (5 min, 30 min, 1 h, 3 h, 6 h "
        "by default).",
    )
    webhook_retry_seconds: float = Field(
        default=5.0,
        gt=0,
        description="First pause before a webhook delivery is tried again; later pauses are "
        "12, 60, 360, 1440 and 5760 times it (5 s, 1 min, 5 min, 30 min, 2 h, 8 h by default).",
    )
    bridge_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest one attempt at a bridge call may take, from connecting to the "
        "answer's last byte; auth validation and interactions keep their shorter deadlines "
        "(10 s, 5 s) when this is longer.",
    )
    max_retry_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest pause a bridge's `Retry-After` may impose; a longer one is "
        "shortened to this.",
    )
    shutdown_requests_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On SIGTERM, how long `serve` lets requests in flight finish before it "
        "closes their connections.",
    )
    shutdown_jobs_seconds: float = Field(
        default=15.0,
        ge=0,
        description="On SIGTERM, how long a worker lets running jobs finish before it hands "
        "them back to the queue (a sync resumes from its last stored page elsewhere).",
    )
    integration_concurrency: int = Field(
        default=4, ge=1, description="Actions run at once against one integration's bridge."
    )
    retention_days: int = Field(
        default=90,
        ge=1,
        description="Finished executions (with their attempts), events and finished sync runs "
        "are purged this many days after they ended or arrived.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Folder where the processes of one machine write their metrics for "
        "/metrics to add up; `metrics` in `home` when unset.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics asks for `Authorization: Bearer <this token>`.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_format: str = Field(default="console", pattern="^(console|json)$")


@lru_cache
def get_settings() -> Settings:
    return Settings()
