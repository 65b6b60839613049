"""Sessions that can be ended (issue 12): a cookie copied before sign-out or before a password
change stops working; sessions expire on the server; the CSRF token is new after sign-in;
cookies are Secure and HSTS is sent when the portal is served over HTTPS."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from db.models import utcnow
from frontend.app import create_app
from frontend.sessions import SESSION_TOKEN
from tests.frontend.conftest import PASSWORDS, Auth, csrf_from, db_execute, portal_config, text_of

NEW_PASSWORD = "violet-kettle-harbour"


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", _cookie(client))
    return thief


def _signed_in(client) -> bool:
    return client.get("/orders/").status_code == 200


def test_a_cookie_copied_before_sign_out_is_rejected(app, client, auth):
    auth.login("ana@example.com")
    thief = _copy_of(app, client)
    assert _signed_in(thief)  # the copy works while the session lives
    assert auth.logout().status_code == 302
    assert not _signed_in(client)
    response = thief.get("/orders/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert thief.get("/tickets/1").status_code == 302


def test_signing_out_ends_only_that_browsers_session(app, client, auth):
    auth.login("ana@example.com")
    laptop = Auth(app.test_client())
    laptop.login("ana@example.com")
    auth.logout()
    assert _signed_in(laptop.client)


def test_a_password_change_ends_every_other_session(app, client, auth, factory):
    laptop = Auth(app.test_client())
    laptop.login("ana@example.com")
    auth.login("ana@example.com")
    copied = _copy_of(app, client)
    response = auth.post("/account/password", {
        "current": PASSWORDS["ana@example.com"], "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert "Your password is changed" in text_of(client.get("/account"))
    assert _signed_in(client)  # the browser that changed it carries on, on a new session
    assert not _signed_in(laptop.client)
    assert not _signed_in(copied)  # even a copy of this browser's own earlier cookie
    assert db_execute(factory, "SELECT count(*) FROM portal_sessions") == [(1,)]
    auth.logout()
    assert auth.login("ana@example.com", PASSWORDS["ana@example.com"]).status_code == 401
    assert auth.login("ana@example.com", NEW_PASSWORD).status_code == 302


def test_a_wrong_current_password_changes_nothing(client, auth, factory):
    auth.login("ana@example.com")
    before = db_execute(factory, "SELECT password_hash FROM users WHERE id = 1")
    response = auth.post("/account/password", {"current": "not-my-password",
                                                "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "That isn&#39;t your current password." in text_of(response)
    assert db_execute(factory, "SELECT password_hash FROM users WHERE id = 1") == before
    assert _signed_in(client)


def test_sign_out_everywhere_else(app, client, auth):
    phone, laptop = Auth(app.test_client()), Auth(app.test_client())
    phone.login("ana@example.com")
    laptop.login("ana@example.com")
    auth.login("ana@example.com")
    assert "also signed in on 2 other browsers" in text_of(client.get("/account"))
    response = auth.post("/account/sign-out-others", {})
    assert response.status_code == 302
    assert "Signed out of 2 other browsers." in text_of(client.get("/account"))
    assert _signed_in(client)
    assert not _signed_in(phone.client) and not _signed_in(laptop.client)


def test_sessions_expire_on_the_server(client, auth, factory):
    auth.login("ana@example.com")
    db_execute(factory, "UPDATE portal_sessions SET expires_at = :t",
               t=utcnow() - timedelta(seconds=1))
    assert not _signed_in(client)


def test_the_database_keeps_only_a_digest_of_the_session_token(app, client, auth, factory):
    auth.login("ana@example.com")
    data = app.session_interface.get_signing_serializer(app).loads(_cookie(client))
    token = data[SESSION_TOKEN]
    [(row_id, user_id)] = db_execute(factory, "SELECT id, user_id FROM portal_sessions")
    assert user_id == 1 and row_id == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row_id


def test_a_cookie_without_a_server_session_signs_nobody_in(app, client):
    """A cookie signed with the right key but naming a user without a session row (as every
    cookie from before sessions were kept on the server does) is not signed in."""
    forged = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": "1", "_fresh": True})
    client.set_cookie("session", forged)
    assert not _signed_in(client)


def test_the_csrf_token_is_new_after_sign_in(client, auth):
    before = csrf_from(text_of(client.get("/login")))
    with client.session_transaction() as s:
        raw_before = s["csrf_token"]
    assert auth.login("ana@example.com").status_code == 302
    with client.session_transaction() as s:
        raw_after = s["csrf_token"]
    assert raw_after != raw_before
    after = csrf_from(text_of(client.get("/tickets/new")))
    assert after != before
    # A form carrying the token from before sign-in is refused; the new one is accepted.
    old = client.post("/tickets/new", data={"message": "Where is order 1001?", "order_id": "",
                                            "csrf_token": before})
    assert old.status_code == 400 and "Your form expired" in text_of(old)
    new = client.post("/tickets/new", data={"message": "Where is order 1001?", "order_id": "",
                                            "csrf_token": after})
    assert new.status_code == 302  # queued: the agent service is down in these tests


def test_sign_in_starts_a_fresh_session(client, auth):
    """Nothing set before sign-in survives it (session fixation)."""
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
    auth.login("ana@example.com")
    with client.session_transaction() as s:
        assert "planted" not in s and s.get(SESSION_TOKEN)


def test_registering_signs_in_with_a_server_session_and_a_new_csrf_token(client, auth, factory):
    client.get("/register")
    with client.session_transaction() as s:
        raw_before = s["csrf_token"]
    response = auth.post("/register", {"name": "Grace Hopper", "email": "grace@example.com",
                                       "password": "compilers-1952", "confirm": "compilers-1952"})
    assert response.status_code == 302
    with client.session_transaction() as s:
        assert s["csrf_token"] != raw_before
    assert db_execute(factory, "SELECT count(*) FROM portal_sessions") == [(1,)]


def _https_app(shop, closed_port, **extra):
    return create_app(portal_config(shop, f"http://127.0.0.1:{closed_port}", **extra))


@pytest.mark.parametrize("setting", [{"PORTAL_SECURE_COOKIES": "1"},
                                     {"portal_secure_cookies": True}])
def test_secure_cookies_and_hsts_over_https(shop, closed_port, setting):
    app = _https_app(shop, closed_port, **setting)
    try:
        client = app.test_client()
        page = client.get("/login", base_url="https://portal.example")
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        # Over HTTPS Flask-WTF also checks the Referer is this site (browsers send it: the
        # portal's Referrer-Policy is same-origin).
        response = client.post("/login", base_url="https://portal.example",
                               headers={"Referer": "https://portal.example/login"}, data={
            "email": "ana@example.com", "password": PASSWORDS["ana@example.com"],
            "csrf_token": csrf_from(text_of(page))})
        assert response.status_code == 302
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        cookie = next(v for v in response.headers.getlist("Set-Cookie")
                      if v.startswith("session="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        app.extensions["supportops_portal"].engine.dispose()


def test_hsts_follows_the_setting_and_its_length(shop, closed_port):
    app = _https_app(shop, closed_port, PORTAL_SECURE_COOKIES="1", PORTAL_HSTS_SECONDS=600,
                     PORTAL_PROXY_HOPS=1)
    try:
        response = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert response.headers["Strict-Transport-Security"] == "max-age=600"
    finally:
        app.extensions["supportops_portal"].engine.dispose()


def test_plain_http_by_default_no_secure_flag_no_hsts(client, auth):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    response = auth.login("ana@example.com")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "Secure" not in cookie
