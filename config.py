"""One typed settings object for the whole product.

Every number a business rule uses lives here, so the policy guard, the policy
documents' consistency test and the README all read the same values. Settings
come from the environment and from `.env` at the project root.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=ROOT / ".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str = f"sqlite:///{DATA_DIR / 'supportops.db'}"
    # No default key: an API without a configured key refuses every protected call.
    support_api_key: str | None = None
    agent_mode: Literal["auto", "offline", "llm"] = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = Field(default=20.0, gt=0)
    tavily_api_key: str | None = None
    audit_log_path: Path = DATA_DIR / "action_log.jsonl"
    api_url: str = "http://127.0.0.1:8000"
    api_timeout_seconds: float = Field(default=30.0, gt=0)
    secret_key: str | None = None
    redis_url: str | None = None

    # Business rules (SPEC R2-R10).
    refund_window_days: int = Field(default=30, ge=0)
    auto_refund_limit: float = Field(default=500.00, ge=0)
    max_refunds_per_window: int = Field(default=2, ge=0)
    fraud_window_days: int = Field(default=30, ge=0)
    replacement_window_days: int = Field(default=30, ge=0)
    min_action_confidence: float = Field(default=0.6, ge=0, le=1)
    # R11: `always` proposes every refund, cancellation and replacement and runs it only on the
    # customer's yes; `when_unsure` runs eligible, confident requests at once.
    confirm_actions: Literal["always", "when_unsure"] = "always"
    proposal_ttl_minutes: int = Field(default=30, ge=1)

    # API protection. Limits are per rolling minute; generous enough for integrators' bursts.
    rate_limit_per_user: int = Field(default=300, ge=1)
    rate_limit_per_key: int = Field(default=3000, ge=1)
    max_body_bytes: int = Field(default=64_000, ge=1024)
    # Portal: login throttling and the retry loop for requests queued while the API was down.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    queue_retry_seconds: float = Field(default=20.0, gt=0)

    # Browser origins allowed to call the API directly (none by default; never a wildcard).
    cors_origins: list[str] = Field(default_factory=list)

    # Where derived artefacts live (never committed).
    index_dir: Path = DATA_DIR / "policy_index"
    model_dir: Path = DATA_DIR / "models"
    policies_dir: Path = ROOT / "policies"

    @field_validator("support_api_key", "openai_api_key", "tavily_api_key", "secret_key",
                     "openai_base_url", "redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("CORS_ORIGINS must list origins; a wildcard is not allowed")
        return value

    @property
    def auto_refund_limit_cents(self) -> int:
        return round(self.auto_refund_limit * 100)

    @property
    def resolved_agent_mode(self) -> Literal["offline", "llm"]:
        if self.agent_mode == "auto":
            return "llm" if self.openai_api_key else "offline"
        return self.agent_mode


@lru_cache
def get_settings() -> Settings:
    return Settings()
