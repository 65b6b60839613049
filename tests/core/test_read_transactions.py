"""Read-only units of work (db.engine.reading) and SQLite's synchronous setting (issue 13).

A reading transaction must not queue behind a writer on SQLite (it starts deferred, and WAL lets
it read the last committed state), and must never commit what it touched.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from db.engine import make_engine, make_session_factory, reading, transaction


def _engine(tmp_path, **kwargs):
    engine = make_engine(f"sqlite:///{tmp_path}/r.db", **kwargs)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.exec_driver_sql("INSERT INTO t (id, v) VALUES (1, 'before')")
    return engine


def test_a_read_does_not_wait_for_a_writer(tmp_path):
    engine = _engine(tmp_path)
    factory = make_session_factory(engine)
    holding, release = threading.Event(), threading.Event()

    def writer():
        with transaction(factory) as s:  # BEGIN IMMEDIATE: holds the write lock
            s.execute(text("UPDATE t SET v = 'during' WHERE id = 1"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    with reading(factory) as s:
        seen = s.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one()
    waited = time.monotonic() - started
    release.set()
    thread.join(10)
    assert seen == "before"  # the last committed state, not the writer's
    assert waited < 1.0  # an IMMEDIATE transaction would have waited for the writer's commit
    with reading(factory) as s:
        assert s.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == "during"
    engine.dispose()


def test_nothing_written_in_a_read_is_kept(tmp_path):
    engine = _engine(tmp_path)
    factory = make_session_factory(engine)
    with reading(factory) as s:
        s.execute(text("UPDATE t SET v = 'changed' WHERE id = 1"))
    with reading(factory) as s:
        assert s.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == "before"
    engine.dispose()


def test_synchronous_is_normal_by_default_and_full_when_asked(tmp_path):
    for setting, expected in (("normal", 1), ("full", 2)):
        engine = make_engine(f"sqlite:///{tmp_path}/{setting}.db", sqlite_synchronous=setting)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == expected
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        engine.dispose()
