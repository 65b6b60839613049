"""Fixture loading is fast (bulk inserts, a cheaper password hash for fixture customers) without
weakening anything a real person signs up with (issue 13)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import create_schema, make_engine, make_session_factory, transaction
from db.fixture_schema import FixtureError, parse_fixture
from db.models import Order, OrderItem, Refund, User
from db.passwords import (
    FIXTURE_COST_DEFAULT,
    SIGN_UP_COST,
    fixture_cost,
    hash_password,
    verify_password,
)
from db.seed import load_fixture
from tests.conftest import order, users


@pytest.fixture
def factory(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fixture.db'}")
    create_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


def shop(n: int) -> dict:
    staff = {"id": n + 1, "name": "Sam Staff", "email": "staff@example.com",
             "password": "staff-secret", "role": "staff"}
    return {"users": users(*range(1, n + 1)) + [staff],
            "orders": [order(str(100 + i), i, "delivered", 10 + i, delivered_days_ago=2,
                             items=[{"sku": "A", "name": "Lamp", "qty": 1, "price": 4},
                                    {"sku": "B", "name": "Bulb", "qty": 2, "price": 3 + i}])
                       for i in range(1, n + 1)],
            "refunds": [{"order_id": "101", "user_id": 1, "amount": 11,
                         "created_at": "2026-11-10T09:00:00Z"}]}


def test_every_row_is_loaded_as_the_fixture_says(factory):
    counts = load_fixture(factory, parse_fixture(shop(12)))
    assert counts == {"users": 13, "orders": 12, "refunds": 1}
    with transaction(factory) as s:
        assert s.scalar(select(Order.total_cents).where(Order.id == "105")) == 1500
        items = s.execute(select(OrderItem.name, OrderItem.qty, OrderItem.price_cents)
                          .where(OrderItem.order_id == "105").order_by(OrderItem.id)).all()
        assert [tuple(i) for i in items] == [("Lamp", 1, 400), ("Bulb", 2, 800)]
        assert s.scalar(select(Refund.amount_cents).where(Refund.order_id == "101")) == 1100
        assert all(u.created_at is not None for u in s.scalars(select(User)))


def test_fixture_customers_get_the_fixture_cost_and_staff_the_full_cost(factory):
    load_fixture(factory, parse_fixture(shop(9)))
    with transaction(factory) as s:
        by_role = {u.email: u for u in s.scalars(select(User))}
    customer, staff = by_role["user3@example.com"], by_role["staff@example.com"]
    assert customer.password_hash.startswith(f"scrypt:{FIXTURE_COST_DEFAULT}:8:1$")
    assert staff.password_hash.startswith(f"scrypt:{SIGN_UP_COST}:8:1$")
    assert verify_password(customer.password_hash, "pw-3-secret")
    assert verify_password(staff.password_hash, "staff-secret")
    assert not verify_password(customer.password_hash, "pw-4-secret")


def test_sign_ups_are_never_hashed_more_cheaply():
    assert hash_password("a real password").startswith(f"scrypt:{SIGN_UP_COST}:8:1$")
    assert hash_password("x", cost=SIGN_UP_COST * 2).startswith(f"scrypt:{SIGN_UP_COST}:")
    with pytest.raises(ValueError):
        hash_password("x", cost=64)       # below the floor
    with pytest.raises(ValueError):
        hash_password("x", cost=3000)     # not a power of two


def test_the_fixture_cost_is_a_setting_with_a_floor(monkeypatch):
    monkeypatch.setenv("FIXTURE_PASSWORD_COST", "32768")
    assert fixture_cost() == SIGN_UP_COST
    monkeypatch.setenv("FIXTURE_PASSWORD_COST", "16")
    with pytest.raises(ValueError):
        fixture_cost()


def test_a_bad_fixture_still_changes_nothing(factory):
    load_fixture(factory, parse_fixture(shop(2)))
    with transaction(factory) as s:
        before = sorted(s.scalars(select(User.email)))
    bad = {"users": [{"id": 50, "name": "New", "email": "new@example.com", "password": "p"},
                     {"id": 51, "name": "Again", "email": "user1@example.com", "password": "p"}]}
    with pytest.raises(FixtureError):
        load_fixture(factory, parse_fixture(bad))
    with transaction(factory) as s:
        assert sorted(s.scalars(select(User.email))) == before
