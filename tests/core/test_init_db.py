"""init_db.py: demo data, fixtures, --reset, and malformed files that change nothing."""

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from config import ROOT
from db.engine import make_engine, make_session_factory, transaction
from db.models import Order, Refund, User
from db.passwords import verify_password
from tests.conftest import order, users


def run_init(tmp_path, *args):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'init.db'}",
           "DEMO_STAFF_PASSWORD": "staff-pass-for-tests"}
    return subprocess.run([sys.executable, "init_db.py", "--skip-models", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def snapshot(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'init.db'}")
    try:
        with transaction(make_session_factory(engine)) as s:
            return (sorted((u.id, u.email, u.role) for u in s.scalars(select(User))),
                    sorted((o.id, o.user_id, o.status, o.total_cents) for o in s.scalars(select(Order))),
                    sorted((r.order_id, r.amount_cents, r.kind) for r in s.scalars(select(Refund))))
    finally:
        engine.dispose()


def write(tmp_path, data, name="fixture.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


GOOD = {"users": users(1, 2) + [{"id": 9, "name": "Staff", "email": "s@example.com",
                                 "password": "x", "role": "staff"}],
        "orders": [order("1042", 1, "delivered", 59.99, delivered_days_ago=3),
                   order("1001", 1, "delivered", 10.0, delivered_days_ago=3), 
                   {"id": 7, "user_id": 2, "status": "pending", "total": "12.50"}],
        "refunds": [{"order_id": "1001", "user_id": 1, "amount": 10.00,
                     "created_at": "2026-11-10T09:00:00Z"}]}


def test_demo_data_loads_once_and_is_safe_to_rerun(tmp_path):
    first = run_init(tmp_path)
    assert first.returncode == 0, first.stderr
    before = snapshot(tmp_path)
    statuses = {o[2] for o in before[1]}
    assert statuses == {"pending", "processing", "shipped", "delivered", "cancelled"}
    assert sum(1 for u in before[0] if u[2] == "customer") >= 5
    assert any(u[2] == "staff" for u in before[0]) and before[2]
    second = run_init(tmp_path)
    assert second.returncode == 0 and snapshot(tmp_path) == before


def test_seed_file_loads_with_hashed_passwords_and_cents(tmp_path):
    result = run_init(tmp_path, "--seed-file", write(tmp_path, GOOD), "--reset")
    assert result.returncode == 0, result.stderr
    users_, orders_, refunds_ = snapshot(tmp_path)
    assert [u[0] for u in users_] == [1, 2, 9]
    assert ("1042", 1, "delivered", 5999) in orders_ and ("7", 2, "pending", 1250) in orders_
    assert refunds_ == [("1001", 1000, "refund")]
    engine = make_engine(f"sqlite:///{tmp_path / 'init.db'}")
    with transaction(make_session_factory(engine)) as s:
        user = s.get(User, 1)
        assert user.password_hash != "pw-1-secret"
        assert verify_password(user.password_hash, "pw-1-secret")
    engine.dispose()


def test_reset_replaces_demo_data(tmp_path):
    assert run_init(tmp_path).returncode == 0
    assert run_init(tmp_path, "--seed-file", write(tmp_path, GOOD), "--reset").returncode == 0
    assert [u[0] for u in snapshot(tmp_path)[0]] == [1, 2, 9]


def test_loading_over_existing_ids_without_reset_is_refused(tmp_path):
    assert run_init(tmp_path, "--seed-file", write(tmp_path, GOOD)).returncode == 0
    before = snapshot(tmp_path)
    again = run_init(tmp_path, "--seed-file", write(tmp_path, GOOD))
    assert again.returncode == 2 and "users[0].id" in again.stderr
    assert snapshot(tmp_path) == before


def _broken(path_setter):
    data = json.loads(json.dumps(GOOD))
    path_setter(data)
    return data


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d["orders"][0].update(status="lost"), "orders[0].status"),
    (lambda d: d["orders"][1].update(total="ten"), "orders[1].total"),
    (lambda d: d["orders"][0].pop("user_id"), "orders[0].user_id"),
    (lambda d: d["orders"][0].update(user_id=99), "orders[0].user_id"),
    (lambda d: d["orders"][0].update(delivered_at="yesterday"), "orders[0].delivered_at"),
    (lambda d: d["orders"][0].update(delivered_at="2026-13-45T00:00:00Z"),
     "orders[0].delivered_at"),
    (lambda d: d["orders"][0]["items"][0].update(qty=0), "orders[0].items[0].qty"),
    (lambda d: d["users"][1].update(email="not-an-email"), "users[1].email"),
    (lambda d: d["users"][1].update(role="admin"), "users[1].role"),
    (lambda d: d["users"][1].update(id=1), "users[1].id"),
    (lambda d: d["refunds"][0].update(order_id="404"), "refunds[0].order_id"),
    (lambda d: d["refunds"][0].update(user_id=2), "refunds[0].user_id"),
    (lambda d: d["refunds"][0].update(amount=-5), "refunds[0].amount"),
    (lambda d: d["refunds"][0].update(kind="gift"), "refunds[0].kind"),
    (lambda d: d.update(users="nobody"), "users"),
])
def test_malformed_fixture_names_the_field_and_changes_nothing(tmp_path, mutate, field):
    assert run_init(tmp_path).returncode == 0
    before = snapshot(tmp_path)
    result = run_init(tmp_path, "--seed-file", write(tmp_path, _broken(mutate)), "--reset")
    assert result.returncode == 2
    assert field in result.stderr, result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("content,message", [("{not json", "not valid JSON"),
                                             ("[1, 2]", "JSON object")])
def test_unreadable_fixture_is_rejected(tmp_path, content, message):
    result = run_init(tmp_path, "--seed-file", write(tmp_path, content))
    assert result.returncode == 2 and message in result.stderr


def test_missing_fixture_file_is_rejected(tmp_path):
    result = run_init(tmp_path, "--seed-file", str(tmp_path / "absent.json"))
    assert result.returncode == 2 and "no such file" in result.stderr
