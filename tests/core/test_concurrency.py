"""The fraud limit and refund-once hold under concurrent requests, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

from audit.audit_log import AuditLog
from db.engine import create_schema, make_engine, make_session_factory
from db.fixture_schema import parse_fixture
from db.seed import load_fixture
from tests.conftest import order, users
from tests.core.helpers import refunds
from tools.base import ToolContext
from tools.registry import ToolRunner


def _setup(settings, fixture):
    engine = make_engine(settings.database_url)
    create_schema(engine)
    factory = make_session_factory(engine)
    load_fixture(factory, parse_fixture(fixture))
    return engine, factory, ToolRunner(factory, AuditLog(settings.audit_log_path))


def _hammer(runner, settings, calls):
    def one(order_id):
        return runner.invoke("issue_refund", ToolContext(user_id=1, settings=settings),
                             order_id=order_id).status
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def test_twenty_threads_for_one_user_get_at_most_two_refunds(any_backend):
    fixture = {"users": users(1), "orders": [
        order(str(i), 1, "delivered", 10, delivered_days_ago=2) for i in range(1, 21)]}
    engine, factory, runner = _setup(any_backend, fixture)
    try:
        outcomes = _hammer(runner, any_backend, [str(i) for i in range(1, 21)])
        assert outcomes.count("success") == 2
        assert outcomes.count("denied") == 18
        assert refunds(factory, user_id=1) == 2
    finally:
        engine.dispose()


def test_ten_threads_refunding_one_order_give_one_refund(any_backend):
    fixture = {"users": users(1), "orders": [order("1042", 1, "delivered", 10,
                                                   delivered_days_ago=2)]}
    engine, factory, runner = _setup(any_backend, fixture)
    try:
        outcomes = _hammer(runner, any_backend, ["1042"] * 10)
        assert outcomes.count("success") == 1
        assert refunds(factory, order_id="1042") == 1
    finally:
        engine.dispose()
