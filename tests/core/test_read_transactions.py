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


def test_writers_queue_in_order_and_get_the_lock_the_moment_it_frees(tmp_path):
    """SqliteWriteLock: a second writer waits for the first (no 'database is locked', no
    busy-handler sleep) and starts right after its commit; the order is the arrival order."""
    engine = _engine(tmp_path)
    factory = make_session_factory(engine)
    order, first_in = [], threading.Event()
    committed_at, started_at = [], []

    def first():
        with transaction(factory) as s:
            first_in.set()
            s.execute(text("UPDATE t SET v = 'first' WHERE id = 1"))
            time.sleep(0.3)
            order.append("first")
        committed_at.append(time.monotonic())

    def second():
        first_in.wait(10)
        with transaction(factory) as s:
            started_at.append(time.monotonic())
            s.execute(text("UPDATE t SET v = 'second' WHERE id = 1"))
            order.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["first", "second"]
    assert started_at[0] - committed_at[0] < 0.02  # handed over at once, not after a sleep
    with reading(factory) as s:
        assert s.execute(text("SELECT v FROM t WHERE id = 1")).scalar_one() == "second"
    engine.dispose()


def test_engines_on_one_file_share_one_queue_and_release_it_with_the_last(tmp_path):
    import gc

    from db.engine import _WRITE_LOCKS, write_lock

    a = _engine(tmp_path)
    b = make_engine(f"sqlite:///{tmp_path}/r.db")
    assert write_lock(a) is write_lock(b) is not None
    path = str((tmp_path / "r.db").resolve())
    assert path in _WRITE_LOCKS
    a.dispose(), b.dispose()
    del a, b
    gc.collect()
    assert path not in _WRITE_LOCKS  # its file descriptor closed with the last engine
    assert write_lock(make_engine("sqlite:///:memory:")) is None


def test_the_queue_is_shared_with_other_processes(tmp_path):
    """Another process holding the database's write queue (flock) makes a writer here wait."""
    import subprocess
    import sys

    engine = _engine(tmp_path)
    factory = make_session_factory(engine)
    holder = subprocess.Popen(
        [sys.executable, "-c", (
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(tmp_path / 'r.db') + '.writelock'!r}, os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(0.6)\n")],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with transaction(factory) as s:
        s.execute(text("UPDATE t SET v = 'after' WHERE id = 1"))
    assert time.monotonic() - started >= 0.3
    holder.wait(10)
    engine.dispose()
