"""Passwords chosen in the portal (sign-up and password change): long enough and not common.
Accounts loaded from a fixture are not checked (the shop's operator chose those)."""

from __future__ import annotations

import pytest

from db.fixture_schema import parse_fixture
from db.seed import load_fixture
from frontend.password_policy import common_passwords, problem
from tests.frontend.conftest import PASSWORDS, Auth, db_execute, text_of

STRONG = "violet-kettle-harbour"


@pytest.mark.parametrize("password,why", [
    ("12345678", "at least 12 characters"),
    ("short-one", "at least 12 characters"),
    ("123456789012", "too common"),
    ("password1234", "too common"),
    ("Password2026!", "too common"),
    ("QWERTYUIOP123", "too common"),
    ("iloveyou-2026", "too common"),
    ("supportops123", "too common"),
    ("aaaaaaaaaaaaaaaa", "same few characters"),
    ("abababababababab", "same few characters"),
    ("grace@example.com", "name or email"),
    ("gracehopper2026", "name or email"),
    ("x" * 201, "at most 200"),
])
def test_weak_passwords_are_refused(password, why):
    assert why in (problem(password, email="grace@example.com", name="Grace Hopper") or "")


@pytest.mark.parametrize("password", [STRONG, "compilers-1952", "Tr4vel by night, 7 owls"])
def test_good_passwords_pass(password):
    assert problem(password, email="grace@example.com", name="Grace Hopper") is None


def test_the_common_password_list_ships_with_the_portal():
    common = common_passwords()
    assert len(common) > 400
    assert {"12345678", "password", "qwertyuiop", "iloveyou"} <= common


def test_the_minimum_length_is_a_setting():
    assert problem("eleven-char", min_length=10) is None
    assert "at least 16" in problem("twelve-chars", min_length=16)


GOOD = {"name": "Grace Hopper", "email": "grace@example.com"}


@pytest.mark.parametrize("password,message", [
    ("12345678", "Use at least 12 characters."),
    ("password1234", "That password is too common"),
    ("Password2026!", "That password is too common"),
])
def test_sign_up_refuses_a_weak_password(client, auth, factory, password, message):
    response = auth.post("/register", {**GOOD, "password": password, "confirm": password})
    assert response.status_code == 400
    assert message in text_of(response)
    assert db_execute(factory, "SELECT count(*) FROM users WHERE email = 'grace@example.com'") \
        == [(0,)]
    assert client.get("/orders/").status_code == 302


def test_sign_up_says_what_a_good_password_is(client):
    assert "At least 12 characters, and not a common password" in text_of(client.get("/register"))


@pytest.mark.parametrize("password,message", [
    ("12345678", "Use at least 12 characters."),
    ("letmein12345", "That password is too common"),
    (PASSWORDS["ana@example.com"], "different from your current one"),
])
def test_a_password_change_refuses_a_weak_or_unchanged_password(client, auth, factory, password,
                                                                message):
    auth.login("ana@example.com")
    before = db_execute(factory, "SELECT password_hash FROM users WHERE id = 1")
    response = auth.post("/account/password", {"current": PASSWORDS["ana@example.com"],
                                                "password": password, "confirm": password})
    assert response.status_code == 400
    assert message in text_of(response)
    assert db_execute(factory, "SELECT password_hash FROM users WHERE id = 1") == before


def test_fixture_accounts_are_not_held_to_the_policy(app, factory):
    """init_db.py --seed-file loads whatever password the operator wrote, and it signs in."""
    load_fixture(factory, parse_fixture({"users": [{"id": 50, "name": "Old Timer",
                                                    "email": "old@example.com",
                                                    "password": "12345678"}],
                                         "orders": [], "refunds": []}))
    auth = Auth(app.test_client())
    assert auth.login("old@example.com", "12345678").status_code == 302
