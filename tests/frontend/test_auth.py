"""Sign in, sign out, registration, CSRF, the `next` redirect and login throttling."""

from __future__ import annotations

import pytest

from db.passwords import verify_password
from tests.frontend.conftest import PASSWORDS, csrf_from, db_execute, text_of


def test_login_form_carries_a_csrf_token(client):
    page = text_of(client.get("/login"))
    assert len(csrf_from(page)) > 20
    assert '<label class="form-label fw-medium" for="email">Email</label>' in page
    assert '<label class="form-label fw-medium" for="password">Password</label>' in page


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_login_without_a_valid_csrf_token_is_rejected(client, token):
    client.get("/login")
    data = {"email": "ana@example.com", "password": PASSWORDS["ana@example.com"]}
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 400
    assert "Your form expired" in text_of(response)
    assert client.get("/orders/").status_code == 302  # still signed out


def test_csrf_is_checked_on_forms_after_login_too(client, auth, factory):
    auth.login("ana@example.com")
    response = client.post("/tickets/new", data={"message": "Refund order 1001"})
    assert response.status_code == 400
    assert db_execute(factory, "SELECT count(*) FROM tickets") == [(3,)]


def test_sign_in_and_out(client, auth):
    response = auth.login("ana@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/tickets/"
    page = text_of(client.get("/orders/"))
    assert "Ana Diaz" in page and "Sign out" in page
    assert client.get("/logout").status_code == 405  # signing out takes a POST with a token
    assert auth.logout().headers["Location"] == "/login"
    assert client.get("/orders/").status_code == 302


def test_staff_land_on_the_queue(auth):
    assert auth.login("staff@example.com").headers["Location"] == "/staff/"


def test_email_is_case_insensitive(auth):
    assert auth.login("ANA@Example.com ", PASSWORDS["ana@example.com"]).status_code == 302


@pytest.mark.parametrize("email,password", [("ana@example.com", "wrong-password"),
                                            ("nobody@example.com", "whatever-123")])
def test_wrong_credentials_say_the_same_thing(client, auth, email, password):
    response = auth.login(email, password)
    assert response.status_code == 401
    assert "don&#39;t match an account" in text_of(response)
    assert client.get("/orders/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, auth):
    response = auth.login("ana@example.com")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("target,expected", [
    ("/tickets/1", "/tickets/1"),
    ("/orders/?x=1", "/orders/?x=1"),
    ("//evil.example/steal", "/tickets/"),
    ("http://evil.example/", "/tickets/"),
    ("https://evil.example/x", "/tickets/"),
    ("/\\evil.example", "/tickets/"),
    ("\\\\evil.example", "/tickets/"),
    ("javascript:alert(1)", "/tickets/"),
    ("evil.example/path", "/tickets/"),
    ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
    ("/\nSet-Cookie:x=1", "/tickets/"),
])
def test_next_only_redirects_to_local_paths(auth, target, expected):
    response = auth.login("ana@example.com", next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_from_the_query_string_survives_the_form(client, auth):
    page = text_of(client.get("/login?next=/tickets/new"))
    assert 'name="next" type="hidden" value="/tickets/new"' in page
    evil = text_of(client.get("/login?next=//evil.example"))
    assert 'name="next" type="hidden" value=""' in evil


def test_five_failures_lock_that_email_from_that_address(client, auth):
    for _ in range(5):
        assert auth.login("ana@example.com", "wrong-password").status_code == 401
    blocked = auth.login("ana@example.com", PASSWORDS["ana@example.com"])
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in text_of(blocked)
    assert int(blocked.headers["Retry-After"]) > 0
    assert client.get("/orders/").status_code == 302
    # Another account, or the same account from another address, is not locked out.
    assert auth.login("ben@example.com").status_code == 302
    auth.logout()
    other = client.post("/login", environ_base={"REMOTE_ADDR": "10.9.8.7"}, data={
        "email": "ana@example.com", "password": PASSWORDS["ana@example.com"],
        "csrf_token": auth.token()})
    assert other.status_code == 302


def test_a_successful_login_clears_earlier_failures(auth):
    for _ in range(4):
        auth.login("ana@example.com", "wrong-password")
    assert auth.login("ana@example.com").status_code == 302
    auth.logout()
    for _ in range(4):
        assert auth.login("ana@example.com", "wrong-password").status_code == 401
    assert auth.login("ana@example.com").status_code == 302


def test_the_throttle_window_expires():
    from frontend.throttle import MemoryThrottle

    now = [1000.0]
    throttle = MemoryThrottle(max_attempts=2, window_seconds=60, clock=lambda: now[0])
    key = throttle.key("A@x.com ", "1.2.3.4")
    assert key == throttle.key("a@x.com", "1.2.3.4") and "x.com" not in key
    assert throttle.reserve(key) == 0 and throttle.reserve(key) == 0
    assert throttle.reserve(key) == 61
    now[0] += 30
    assert throttle.reserve(key) == 31
    now[0] += 31
    assert throttle.reserve(key) == 0


GOOD = {"name": "Grace Hopper", "email": "grace@example.com", "password": "compilers-1952",
        "confirm": "compilers-1952"}


def test_register_creates_a_customer_and_signs_them_in(client, auth, factory):
    response = auth.post("/register", {**GOOD, "role": "staff"})
    assert response.status_code == 302 and response.headers["Location"] == "/orders/"
    page = text_of(client.get("/orders/"))
    assert "Grace Hopper" in page and "No orders yet" in page
    [(role, email, hashed)] = db_execute(
        factory, "SELECT role, email, password_hash FROM users WHERE email = 'grace@example.com'")
    assert role == "customer" and hashed != GOOD["password"]
    assert verify_password(hashed, GOOD["password"])
    assert client.get("/staff/").status_code == 403


@pytest.mark.parametrize("change,message", [
    ({"password": "short", "confirm": "short"}, "Use at least 12 characters."),
    ({"confirm": "something-else"}, "The two passwords don&#39;t match."),
    ({"email": "not-an-email"}, "Enter a valid email address"),
    ({"name": "  "}, "Tell us your name."),
    ({"email": "ANA@example.com"}, "An account with this email already exists."),
])
def test_register_validation(client, auth, factory, change, message):
    response = auth.post("/register", {**GOOD, **change})
    assert response.status_code == 400
    body = text_of(response)
    assert message in body
    assert 'aria-invalid="true"' in body
    assert db_execute(factory, "SELECT count(*) FROM users") == [(4,)]
    assert client.get("/orders/").status_code == 302
