"""Alembic environment. db/migrate.py runs it with a connection it has already locked (see
there); the `alembic` command line (alembic.ini at the project root) runs it on DATABASE_URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from config import get_settings
    from db.engine import engine_from_settings
    from db.migrate import migration_lock

    engine = engine_from_settings(get_settings())
    try:
        with engine.begin() as conn:
            migration_lock(conn)
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
