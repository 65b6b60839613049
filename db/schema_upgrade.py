"""Bring an existing database up to the models by adding the nullable columns it lacks.

`create_all` makes missing tables but never touches existing ones, so a database made before
a release that added columns (the hand-off work added `escalations.due_at`, `messages.author_*`
and others) fails on its first query. Until the project adopts Alembic, this covers the only
kind of change made so far: new nullable columns, added with `ALTER TABLE … ADD COLUMN`.
Anything else (a new NOT NULL column, a changed type) is left alone and needs a migration.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text

from db.models import Base

log = logging.getLogger(__name__)


def add_missing_columns(engine: Engine) -> list[str]:
    """The `table.column` names added (empty when the database is current)."""
    added = []
    with engine.begin() as conn:  # one connection: SQLite's BEGIN IMMEDIATE allows no second
        inspector = inspect(conn)
        existing_tables = set(inspector.get_table_names())
        for table in Base.metadata.sorted_tables:
            if table.name not in existing_tables:
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have or not column.nullable:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
                added.append(f"{table.name}.{column.name}")
    if added:
        log.warning("database upgraded: added columns %s", ", ".join(added))
    return added
