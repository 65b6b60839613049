"""One typed settings object for the whole product.

Every number a business rule uses lives here, so the policy guard, the policy
documents' consistency test and the README all read the same values. Settings
come from the environment and from `.env` at the project root.
"""

from __future__ import annotations

import re
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_PART = re.compile(r"^\s*([A-Za-z]{3})(?:\s*-\s*([A-Za-z]{3}))?\s+(\d{1,2}):(\d{2})\s*-\s*"
                         r"(\d{1,2}):(\d{2})\s*$")


def parse_opening_hours(text: str) -> dict[int, tuple[time, time]]:
    """'Mon-Fri 08:00-20:00; Sat 09:00-17:00' -> {0: (08:00, 20:00), ..., 5: (09:00, 17:00)}."""
    week: dict[int, tuple[time, time]] = {}
    for part in filter(str.strip, text.split(";")):
        match = _HOURS_PART.match(part)
        if not match or match[1].lower() not in DAY_NAMES or (
                match[2] and match[2].lower() not in DAY_NAMES):
            raise ValueError(f"business hours: can't read {part.strip()!r} (use e.g. "
                             "'Mon-Fri 08:00-20:00; Sat 09:00-17:00')")
        first = DAY_NAMES.index(match[1].lower())
        last = DAY_NAMES.index((match[2] or match[1]).lower())
        opens, closes = time(int(match[3]), int(match[4])), time(int(match[5]), int(match[6]))
        if closes <= opens or last < first:
            raise ValueError(f"business hours: {part.strip()!r} closes before it opens")
        for day in range(first, last + 1):
            week[day] = (opens, closes)
    if not week:
        raise ValueError("business hours: at least one opening period is needed")
    return week


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
    # PostgreSQL connection pool, per process (SQLite ignores these). Each process holds at most
    # db_pool_size + db_max_overflow connections, so the sum over every API worker and portal
    # process must stay below the server's max_connections (README "Running on PostgreSQL").
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)   # wait this long for a free connection
    db_connect_timeout: float = Field(default=5.0, gt=0)  # give up on an unreachable server
    # SQLite only: `normal` (WAL synced at checkpoints; a commit survives a crash of the
    # process, a power cut may undo the last ones) or `full` (fsync every commit). db/engine.py.
    sqlite_synchronous: Literal["normal", "full"] = "normal"
    # Requests one API worker runs at once (its thread pool; 40 is AnyIO's default); the others
    # wait in its event loop. The LLM brain mostly waits on the model, so keep it high there;
    # the offline brain is CPU-bound (README "Speed").
    api_threads: int = Field(default=40, ge=1, le=200)

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

    # API protection. Limits are per minute; generous enough for integrators' bursts.
    rate_limit_per_user: int = Field(default=300, ge=1)
    rate_limit_per_key: int = Field(default=3000, ge=1)
    # Where the counts live: `auto` = Redis when REDIS_URL is set, else the database, so every
    # API worker shares one budget; `memory` counts per process (one worker only).
    rate_limit_backend: Literal["auto", "database", "redis", "memory"] = "auto"
    # When the counter store (database or Redis) is unreachable: let requests through (open)
    # or refuse them with 503 (closed). Never a 500.
    rate_limit_fail_open: bool = True
    # Idempotency-Key claims (R8): an attempt holds its key for this lease, renewed while it
    # works; a retry takes over a lapsed lease that left no result. A repeat that finds the key
    # held waits (without holding a thread) at most idempotency_wait_seconds, then gets 409
    # with Retry-After.
    idempotency_lease_seconds: float = Field(default=30.0, ge=1)
    idempotency_wait_seconds: float = Field(default=20.0, ge=0)
    # Retry-After (seconds) on a 503 when the database or Redis is unavailable.
    unavailable_retry_after: int = Field(default=2, ge=1)
    max_body_bytes: int = Field(default=64_000, ge=1024)
    # Portal: login throttling and the retry loop for requests queued while the API was down.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=300, ge=1)
    queue_retry_seconds: float = Field(default=20.0, gt=0)

    # People in the loop (escalation policy): the first answer from a person is due within
    # these many business hours (high priority) or business days (normal), counted in the
    # customer care team's opening hours, in its time zone, skipping closed dates.
    first_response_high_hours: float = Field(default=4.0, gt=0)
    first_response_normal_days: int = Field(default=1, ge=1)
    business_timezone: str = "America/New_York"
    business_hours: str = "Mon-Fri 08:00-20:00; Sat 09:00-17:00"
    business_closed_dates: list[date] = Field(default_factory=list)
    # Where links in e-mails to customers point (the portal).
    portal_url: str = "http://127.0.0.1:5000"

    # E-mail to customers (staff replies, decisions, resolutions). Without SMTP_HOST nothing is
    # sent: mails wait in the outbox table until a host is configured.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "SupportOps <support@supportops.example>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_poll_seconds: float = Field(default=5.0, gt=0)
    mail_retry_base_seconds: float = Field(default=5.0, gt=0)
    mail_retry_max_seconds: float = Field(default=600.0, gt=0)

    # Portal security (README "Portal: security"). Behind a TLS-terminating proxy set
    # PORTAL_PROXY_HOPS=1 and PORTAL_SECURE_COOKIES=1: cookies then travel over HTTPS only and
    # every answer carries HSTS for portal_hsts_seconds (0: no HSTS header).
    portal_proxy_hops: int = Field(default=0, ge=0, le=5)
    portal_secure_cookies: bool = False
    portal_hsts_seconds: int = Field(default=31_536_000, ge=0)
    # A signed-in session ends after this long, at sign-out, or at a password change.
    portal_session_hours: float = Field(default=12.0, gt=0)
    # Where sign-in attempts are counted: `auto` = Redis when REDIS_URL is set, else the
    # database (shared by every portal process); `memory` counts per process (one process only).
    login_throttle_backend: Literal["auto", "database", "redis", "memory"] = "auto"
    # Passwords chosen in the portal (sign-up, change): at least this long, and not on the
    # common-password list shipped in frontend/common_passwords.txt.
    password_min_length: int = Field(default=12, ge=8, le=64)

    # Browser origins allowed to call the API directly (none by default; never a wildcard).
    cors_origins: list[str] = Field(default_factory=list)

    # Where derived artefacts live (never committed).
    index_dir: Path = DATA_DIR / "policy_index"
    model_dir: Path = DATA_DIR / "models"
    policies_dir: Path = ROOT / "policies"

    @field_validator("support_api_key", "openai_api_key", "tavily_api_key", "secret_key",
                     "openai_base_url", "redis_url", "smtp_host", "smtp_user",
                     "smtp_password", mode="before")
    @classmethod
    def _blank_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("CORS_ORIGINS must list origins; a wildcard is not allowed")
        return value

    @field_validator("business_hours")
    @classmethod
    def _parse_hours(cls, value: str) -> str:
        parse_opening_hours(value)  # a typo fails at start-up, not when a case is opened
        return value

    @field_validator("business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. America/New_York)") from exc
        return value

    @property
    def opening_hours(self) -> dict[int, tuple[time, time]]:
        """Weekday (Monday = 0) -> (opens, closes), in `business_timezone`."""
        return parse_opening_hours(self.business_hours)

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
