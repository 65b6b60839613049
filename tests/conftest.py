"""Shared fixtures: every test gets its own real database file, audit log and settings."""

from __future__ import annotations

import os
import uuid
import warnings
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

# Tests never reach a real model server or search API, and never read a developer's .env.
for _name in ("OPENAI_API_KEY", "TAVILY_API_KEY", "OPENAI_BASE_URL", "REDIS_URL", "AGENT_MODE"):
    os.environ.pop(_name, None)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
warnings.filterwarnings("ignore", category=DeprecationWarning)

from config import ROOT, Settings  # noqa: E402
from db.engine import create_schema, make_engine, make_session_factory  # noqa: E402
from db.fixture_schema import parse_fixture  # noqa: E402
from db.models import utcnow  # noqa: E402
from db.seed import load_fixture  # noqa: E402

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def iso(days_ago: float) -> str:
    return (utcnow() - timedelta(days=days_ago)).replace(microsecond=0).isoformat() + "Z"


def order(oid, user_id, status, total, *, delivered_days_ago=None, ordered_days_ago=40, items=None):
    data = {"id": oid, "user_id": user_id, "status": status, "total": total,
            "items": items or [{"sku": f"SKU-{oid}", "name": f"Item {oid}", "qty": 1,
                                "price": total}],
            "ordered_at": iso(ordered_days_ago)}
    if status in ("shipped", "delivered"):
        data.update(shipped_at=iso(ordered_days_ago - 1), carrier="UPS",
                    tracking_number=f"1Z{oid}")
    if delivered_days_ago is not None:
        data["delivered_at"] = iso(delivered_days_ago)
    return data


def users(*ids):
    return [{"id": i, "name": f"User {i}", "email": f"user{i}@example.com",
             "password": f"pw-{i}-secret"} for i in ids]


def _postgres_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def make_settings(tmp_path, database_url: str | None = None, **overrides) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url or f"sqlite:///{tmp_path / 'test.db'}",
        audit_log_path=tmp_path / "audit.jsonl",
        support_api_key="test-key",
        secret_key="test-secret",
        agent_mode="offline",
        index_dir=tmp_path / "index",
        model_dir=ROOT / "data" / "models",
        **overrides,
    )


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    create_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def seed(factory):
    def _seed(fixture: dict, reset: bool = False):
        return load_fixture(factory, parse_fixture(fixture), reset=reset)
    return _seed


@pytest.fixture(params=["sqlite", "postgresql"])
def any_backend(request, tmp_path):
    """A fresh database on each backend; PostgreSQL is the one running on this machine."""
    if request.param == "sqlite":
        settings = make_settings(tmp_path)
        yield settings
        return
    yield from _postgres_settings(tmp_path)


@pytest.fixture
def any_backend_pg(tmp_path):
    """Settings on a throw-away PostgreSQL database (dropped afterwards)."""
    yield from _postgres_settings(tmp_path)


# How this run used PostgreSQL, for the closing summary: never skipped silently.
_PG_RUN = {"tests": 0, "unreachable": 0}


def _postgres_settings(tmp_path):
    _PG_RUN["tests"] += 1
    if not _postgres_available():
        _PG_RUN["unreachable"] += 1
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (see README: make test)")
    name = f"supportops_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_settings(tmp_path, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pytest_terminal_summary(terminalreporter):
    """Say plainly whether the database tests ran on PostgreSQL too."""
    used, down = _PG_RUN["tests"], _PG_RUN["unreachable"]
    if down:
        terminalreporter.write_line(
            f"PostgreSQL (127.0.0.1:5432): NOT REACHABLE — {down} of {used} test(s) that need "
            "it FAILED (they are never skipped)", red=True, bold=True)
    elif used:
        terminalreporter.write_line(f"PostgreSQL (127.0.0.1:5432): {used} test(s) ran on a "
                                    "throw-away database, as well as on SQLite", green=True)
    else:
        terminalreporter.write_line("PostgreSQL: no test in this selection uses it")
