"""API fixtures: the real agent services (real SQLite file, FAISS index, MiniLM) built once,
a fresh fixture loaded into the database for every test, and a fresh app (fresh limits)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from agents.factory import build_services, services_for
from api.main import create_app
from db.fixture_schema import parse_fixture
from db.models import RateLimitCounter
from db.seed import load_fixture
from tests.conftest import make_settings, order, users

KEY = {"X-API-Key": "test-key"}


def shop() -> dict:
    return {"users": users(1, 2, 3), "orders": [
        order("1042", 1, "delivered", 59.99, delivered_days_ago=5),
        order("1043", 1, "shipped", 25.00),
        order("1044", 1, "delivered", 649.00, delivered_days_ago=3),
        order("2001", 2, "delivered", 20.00, delivered_days_ago=2),
        order("2002", 2, "pending", 15.00),
        order("3001", 3, "processing", 12.00),
    ]}


@pytest.fixture(scope="session")
def api_settings(tmp_path_factory):
    return make_settings(tmp_path_factory.mktemp("api"))


@pytest.fixture(scope="session")
def services(api_settings):
    services = build_services(api_settings)
    yield services
    services.close()


@pytest.fixture
def fresh_db(services):
    load_fixture(services.session_factory, parse_fixture(shop()), reset=True)
    with services.engine.begin() as conn:  # fresh limits: the counts live in the database
        conn.execute(delete(RateLimitCounter))
    return services


@pytest.fixture
def make_client(api_settings, fresh_db):
    made = []

    def _make(**overrides):
        settings = api_settings.model_copy(update=overrides) if overrides else api_settings
        services = fresh_db
        if overrides:  # the agent reads its settings too (CONFIRM_ACTIONS, rule numbers)
            services = services_for(settings, fresh_db)
            made.append(services)
        return TestClient(create_app(settings, services), raise_server_exceptions=False)
    yield _make
    for services in made:
        services.engine.dispose()


@pytest.fixture
def client(make_client):
    return make_client()


def resolve(client, text, user_id=1, conversation_id=None, headers=None, **extra):
    body = {"user_input": text, "user_id": user_id, "conversation_id": conversation_id, **extra}
    return client.post("/support/resolve", json=body, headers={**KEY, **(headers or {})})
