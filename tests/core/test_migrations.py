"""Alembic migrations (db/migrations): a new database, an old create_all database adopted with
its data, processes starting together, and the schema they make equal to db/models.py."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from config import ROOT
from db.engine import create_schema, engine_from_settings, make_engine, make_session_factory
from db.engine import transaction as tx
from db.fixture_schema import parse_fixture
from db.migrate import BASELINE, _scripts, alembic_config, head_revision
from db.models import AuditRecord, Base, Order, Refund, User
from db.seed import load_fixture
from tests.conftest import make_settings, order, users
from tests.core.helpers import run_tool

# Every table a revision after the baseline creates (an old create_all database lacks them).
NEW_TABLES = set(Base.metadata.tables) - set(_scripts().get_revision(BASELINE).module.metadata.tables)
SHOP = {"users": users(1, 2), "orders": [order("1042", 1, "delivered", 59.99,
                                               delivered_days_ago=3),
                                         order("7", 2, "pending", 12.5)],
        "refunds": [{"order_id": "7", "user_id": 2, "amount": 12.5, "kind": "cancellation",
                     "created_at": "2026-11-10T09:00:00Z"}]}


def version(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_a_new_database_gets_exactly_the_models_schema(any_backend):
    engine = make_engine(any_backend.database_url)
    try:
        create_schema(engine)
        assert version(engine) == [head_revision()]
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True}), Base.metadata)
            assert diff == [], diff
            inspector = inspect(conn)
            for table in Base.metadata.sorted_tables:  # alembic does not compare these
                expected = {c.name for c in table.constraints
                            if c.__class__.__name__ == "CheckConstraint" and c.name}
                have = {c["name"] for c in inspector.get_check_constraints(table.name)}
                assert expected <= have, table.name
        with tx(make_session_factory(engine)) as s:
            assert s.execute(text("SELECT last_seq FROM audit_chain_head")).scalar() == 0
    finally:
        engine.dispose()


def _old_release(url: str) -> None:
    """A database as the old `create_schema` made it (create_all, no alembic_version), with data
    and an escalation from before."""
    engine = make_engine(url)
    Base.metadata.create_all(engine, tables=[t for t in Base.metadata.sorted_tables
                                             if t.name not in NEW_TABLES])
    load_fixture(make_session_factory(engine), parse_fixture(SHOP))
    engine.dispose()


def _snapshot(url: str):
    engine = make_engine(url)
    try:
        with tx(make_session_factory(engine)) as s:
            return (sorted((u.id, u.email, u.password_hash) for u in s.scalars(select(User))),
                    sorted((o.id, o.status, o.total_cents) for o in s.scalars(select(Order))),
                    sorted((r.order_id, r.amount_cents) for r in s.scalars(select(Refund))))
    finally:
        engine.dispose()


def run_init(url: str):
    env = {**os.environ, "DATABASE_URL": url, "DEMO_STAFF_PASSWORD": "staff-pass-for-tests"}
    return subprocess.run([sys.executable, "init_db.py", "--skip-models"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_init_db_adopts_an_old_database_and_keeps_its_data(any_backend):
    url = any_backend.database_url
    _old_release(url)
    before = _snapshot(url)
    result = run_init(url)
    assert result.returncode == 0, result.stderr
    assert "already present" in result.stdout  # the old data counts as the shop: not reloaded
    assert _snapshot(url) == before
    engine = make_engine(url)
    try:
        assert NEW_TABLES <= set(inspect(engine).get_table_names())
        assert version(engine) == [head_revision()]
        # and it works: a refund on the old data is recorded in the new trail
        factory = make_session_factory(engine)
        result = run_tool(factory, any_backend, 1, "issue_refund", order_id="1042")
        assert result.status == "success"
        with tx(factory) as s:
            assert s.scalar(select(func.count()).select_from(AuditRecord)) == 1
    finally:
        engine.dispose()
    assert run_init(url).returncode == 0  # and again: nothing to do
    assert version(make_engine(url)) == [head_revision()]


def test_an_old_database_missing_later_columns_gains_them(tmp_path):
    """What db/schema_upgrade.py did, now part of adopting a pre-migrations database."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id "
                          "VARCHAR(40), role VARCHAR(20), content TEXT, ticket_id INTEGER, "
                          "created_at DATETIME)"))
        conn.execute(text("INSERT INTO messages (id, conversation_id, role, content) "
                          "VALUES (1, 'c1', 'user', 'hello')"))
    create_schema(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("messages")}
    assert {"author_id", "author_name"} <= columns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT content, author_name FROM messages")).all() == [
            ("hello", None)]
    assert version(engine) == [head_revision()]
    engine.dispose()


def _start(url: str) -> None:
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()


def test_processes_starting_together_migrate_once(any_backend):
    """The API workers and the portal all call create_schema at start-up."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_start, args=(any_backend.database_url,)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    engine = make_engine(any_backend.database_url)
    try:
        assert version(engine) == [head_revision()]
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_chain_head")).scalar() == 1
    finally:
        engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(any_backend):
    engine = make_engine(any_backend.database_url)
    try:
        create_schema(engine)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        create_schema(engine)
        assert NEW_TABLES | {"users", "orders"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_pool_sizes_and_timeouts_are_settings(any_backend_pg, tmp_path):
    settings = make_settings(tmp_path, any_backend_pg.database_url, db_pool_size=3,
                             db_max_overflow=2, db_pool_timeout=4.5)
    engine = engine_from_settings(settings)
    try:
        assert engine.pool.size() == 3 and engine.pool._max_overflow == 2
        assert engine.pool._timeout == 4.5
    finally:
        engine.dispose()
