"""A database made before the hand-off work (no due times, no message authors, no outbox)
gains what it lacks when the schema is created, and keeps its data."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from db.engine import create_schema, make_engine


def test_an_old_database_gains_the_new_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    with old.begin() as conn:  # the tables as they were, cut down to what matters here
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(200), "
                          "email VARCHAR(320), password_hash VARCHAR(300), role VARCHAR(20), "
                          "created_at DATETIME)"))
        conn.execute(text("CREATE TABLE escalations (id INTEGER PRIMARY KEY, user_id INTEGER, "
                          "ticket_id INTEGER, order_id VARCHAR(40), kind VARCHAR(30), "
                          "reason VARCHAR(500), priority VARCHAR(10), status VARCHAR(10))"))
        conn.execute(text("INSERT INTO escalations (id, user_id, kind, reason, priority, status) "
                          "VALUES (1, 1, 'fraud', 'R2b', 'high', 'open')"))
    old.dispose()
    engine = make_engine(url)
    create_schema(engine)
    create_schema(engine)  # safe to run twice
    columns = {c["name"] for c in inspect(engine).get_columns("escalations")}
    assert {"due_at", "first_response_at", "decision", "decision_result"} <= columns
    assert "outbox" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind, due_at FROM escalations")).all() == [
            ("fraud", None)]
    engine.dispose()
