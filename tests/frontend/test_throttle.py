"""Sign-in throttling shared by every portal process (issue 12): the attempt is reserved before
the password hash is checked, so parallel guesses past the limit never reach the hash; two
portal instances on one database (two gunicorn workers) share one count; Redis when REDIS_URL
is set, with the database standing in while Redis is down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from db.engine import create_schema, make_engine, make_session_factory
from db.models import utcnow
from frontend.app import create_app
from frontend.services import users
from frontend.throttle import DatabaseThrottle, MemoryThrottle, RedisThrottle
from tests.e2e.servers import free_port
from tests.frontend.conftest import PASSWORDS, Auth, db_execute, portal_config

LIMIT = 5


def _portal(shop, closed_port, **extra):
    return create_app(portal_config(shop, f"http://127.0.0.1:{closed_port}", **extra))


def _dispose(*apps):
    for app in apps:
        app.extensions["supportops_portal"].engine.dispose()


@pytest.fixture
def hashes(monkeypatch):
    """Counts every password hash check the portal makes."""
    calls = {"n": 0}
    lock = threading.Lock()
    real = users.verify_password

    def counting(hashed, plain):
        with lock:
            calls["n"] += 1
        return real(hashed, plain)

    monkeypatch.setattr(users, "verify_password", counting)
    return calls


def _parallel_wrong_passwords(app, email: str, n: int = 40) -> list[int]:
    start = threading.Barrier(n)

    def attempt(i: int) -> int:
        client = app.test_client()
        start.wait()
        return client.post("/login", data={"email": email,
                                           "password": f"wrong-guess-{i}"}).status_code

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(attempt, range(n)))


def test_forty_parallel_wrong_passwords_check_at_most_five_hashes(shop, closed_port, hashes):
    app = _portal(shop, closed_port, WTF_CSRF_ENABLED=False)
    try:
        codes = _parallel_wrong_passwords(app, "ana@example.com")
    finally:
        _dispose(app)
    assert hashes["n"] <= LIMIT
    assert codes.count(401) == hashes["n"]
    assert codes.count(429) == 40 - hashes["n"] >= 35


def test_parallel_guesses_on_postgresql_too(any_backend, shop, closed_port, hashes):
    app = _portal(shop, closed_port, WTF_CSRF_ENABLED=False,
                  database_url=any_backend.database_url)
    try:
        users.register(app.extensions["supportops_portal"].factory, "Ana Diaz",
                       "ana@example.com", PASSWORDS["ana@example.com"])
        hashes["n"] = 0
        codes = _parallel_wrong_passwords(app, "ana@example.com")
    finally:
        _dispose(app)
    assert hashes["n"] <= LIMIT and codes.count(429) >= 35


def test_two_portal_processes_share_one_count(shop, closed_port, hashes):
    """Two app instances on one database, as two gunicorn workers are."""
    first, second = _portal(shop, closed_port), _portal(shop, closed_port)
    try:
        a, b = Auth(first.test_client()), Auth(second.test_client())
        for auth in (a, b, a, b, a):
            assert auth.login("ana@example.com", "wrong-password").status_code == 401
        checked = hashes["n"]
        for auth in (a, b):
            refused = auth.login("ana@example.com")  # the right password, too late
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert hashes["n"] == checked  # refused without a hash check
        # Another account from the same address is not locked out, on either process.
        assert b.login("ben@example.com").status_code == 302
    finally:
        _dispose(first, second)


def test_the_throttle_keeps_no_email(app, auth, factory):
    auth.login("ana@example.com", "wrong-password")
    [(key,)] = db_execute(factory, "SELECT key FROM login_attempts")
    assert "ana" not in key and len(key) == 64


def test_changing_the_password_is_throttled_like_signing_in(client, auth, hashes):
    auth.login("ana@example.com")
    for _ in range(LIMIT):
        response = auth.post("/account/password", {"current": "a-wrong-guess",
                                                    "password": "violet-kettle-harbour",
                                                    "confirm": "violet-kettle-harbour"})
        assert response.status_code == 400
    checked = hashes["n"]
    response = auth.post("/account/password", {"current": PASSWORDS["ana@example.com"],
                                                "password": "violet-kettle-harbour",
                                                "confirm": "violet-kettle-harbour"})
    assert response.status_code == 429 and hashes["n"] == checked


def test_database_throttle_reserves_atomically_and_its_window_expires(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'throttle.db'}")
    create_schema(engine)
    now = [utcnow()]
    throttle = DatabaseThrottle(make_session_factory(engine), LIMIT, 60, "k",
                                clock=lambda: now[0])
    key = throttle.key("a@example.com", "1.2.3.4")
    start = threading.Barrier(20)

    def reserve(_):
        start.wait()
        return throttle.reserve(key)

    with ThreadPoolExecutor(20) as pool:
        waits = list(pool.map(reserve, range(20)))
    assert waits.count(0) == LIMIT and all(0 < w <= 61 for w in waits if w)
    now[0] += timedelta(seconds=30)
    assert 29 <= throttle.reserve(key) <= 31
    now[0] += timedelta(seconds=31)
    assert throttle.reserve(key) == 0
    throttle.clear(key)
    assert [throttle.reserve(key) for _ in range(LIMIT + 1)][-1] > 0
    engine.dispose()


def test_memory_throttle_is_per_process():
    one, two = MemoryThrottle(2, 60, "k"), MemoryThrottle(2, 60, "k")
    key = one.key("a@example.com", None)
    assert [one.reserve(key) for _ in range(3)][-1] > 0
    assert two.reserve(key) == 0  # which is why it is not the default


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", process
    process.terminate()
    process.wait(timeout=10)


def test_redis_throttle_is_shared_and_the_database_stands_in_while_redis_is_down(
        shop, closed_port, redis_url, hashes):
    url, process = redis_url
    first, second = _portal(shop, closed_port, redis_url=url), _portal(shop, closed_port,
                                                                      redis_url=url)
    try:
        throttle = first.extensions["supportops_portal"].throttle
        assert isinstance(throttle, RedisThrottle)
        a, b = Auth(first.test_client()), Auth(second.test_client())
        for auth in (a, b, a, b, a):
            assert auth.login("ana@example.com", "wrong-password").status_code == 401
        assert b.login("ana@example.com").status_code == 429
        factory = first.extensions["supportops_portal"].factory
        assert db_execute(factory, "SELECT count(*) FROM login_attempts") == [(0,)]
        assert throttle.client.zcard(throttle._redis_key(
            throttle.key("ana@example.com", "127.0.0.1"))) == LIMIT

        process.terminate()
        process.wait(timeout=10)
        # Redis is down: sign-in still works and is still counted (in the database), never 500.
        for _ in range(LIMIT):
            assert b.login("ben@example.com", "wrong-password").status_code == 401
        assert a.login("ben@example.com").status_code == 429
        assert db_execute(factory, "SELECT count(*) FROM login_attempts") == [(LIMIT,)]
    finally:
        _dispose(first, second)
