"""Fixtures for tests that run on both backends."""

from __future__ import annotations

import pytest

from db.engine import create_schema, make_engine, make_session_factory
from db.fixture_schema import parse_fixture
from db.seed import load_fixture


@pytest.fixture
def seed_any(any_backend):
    """Load a fixture into `any_backend`'s fresh database: returns (session factory, settings)."""
    engines = []

    def _seed(fixture: dict):
        engine = make_engine(any_backend.database_url)
        engines.append(engine)
        create_schema(engine)
        factory = make_session_factory(engine)
        load_fixture(factory, parse_fixture(fixture))
        return factory, any_backend

    yield _seed
    for engine in engines:
        engine.dispose()
