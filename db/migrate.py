"""Bring a database to the newest schema with Alembic (db/migrations/), safely from any process.

`upgrade(engine)` is what `db.engine.create_schema` runs, so the API, the portal and
`init_db.py` all start the same way. Three kinds of database meet it:

- empty: every revision runs, from 0001_baseline on;
- made by this project's migrations (it has `alembic_version`): the missing revisions run;
- made by the old `Base.metadata.create_all` (tables but no `alembic_version`): it is adopted —
  the baseline's missing tables are created and the nullable columns an older release lacked
  are added (what db/schema_upgrade.py used to do), the database is stamped at 0001_baseline,
  and the later revisions run. Its data stays.

Everything happens in one transaction that first takes a lock, so two processes starting
together never both migrate: on PostgreSQL a transaction-scoped advisory lock (DDL is
transactional there, so a failed upgrade leaves nothing half done); on SQLite the engine's
`BEGIN IMMEDIATE`, which holds the database's write lock until commit. The second process
waits, then finds the database current and does nothing.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
# Any fixed 64-bit number; every SupportOps process uses this one for migrations.
ADVISORY_LOCK_KEY = 0x5355_5050_4F52_5401


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def migration_lock(conn: Connection) -> None:
    """Serialise migrations across processes for the rest of `conn`'s transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    # SQLite: the transaction began with BEGIN IMMEDIATE (db/engine.py), which is the lock.


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Migrate to the newest revision (cheap when already there: one query)."""
    head = head_revision()
    with engine.connect() as conn:  # the common case, without taking the migration lock
        if current_revision(conn) == head:
            return
    with engine.begin() as conn:
        migration_lock(conn)
        current = current_revision(conn)
        if current == head:
            return  # another process migrated while we waited
        config = alembic_config(conn)
        if current is None and _has_baseline_tables(conn):
            _adopt_legacy(conn)
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    log.info("database schema upgraded to %s", head)


def _has_baseline_tables(conn: Connection) -> bool:
    baseline = _scripts().get_revision(BASELINE).module.metadata
    return bool(set(inspect(conn).get_table_names()) & set(baseline.tables))


def _adopt_legacy(conn: Connection) -> list[str]:
    """Bring a database made by the old create_all to exactly the baseline: its missing tables,
    and the nullable columns an earlier release did not have. Returns what was added."""
    baseline = _scripts().get_revision(BASELINE).module.metadata
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    added = [t.name for t in baseline.sorted_tables if t.name not in existing]
    baseline.create_all(conn, tables=[baseline.tables[name] for name in added])
    for table in baseline.sorted_tables:
        if table.name not in existing:
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have or not column.nullable:
                continue  # a missing NOT NULL column would need a value: not guessed here
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
            added.append(f"{table.name}.{column.name}")
    log.warning("adopted a database made before migrations (stamped %s)%s", BASELINE,
                f"; added {', '.join(added)}" if added else "")
    return added
