"""tests/reliability/: the API as operators run it (gunicorn, 4 uvicorn workers, PostgreSQL),
loaded, crashed and cut off from its database on loopback. Part of `make test`; every loop is
bounded in count and time. `-m "not reliability"` leaves them out of a quick run."""

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "reliability: multi-process load, crash and outage tests "
                                       "on loopback (tests/reliability/)")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)
