"""Every page: Bootstrap from our own static files (no CDN), no inline scripts, security
headers, and a label for every form field."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from tests.frontend.conftest import (
    ANA_CASE,
    ANA_QUEUED,
    ANA_TICKET,
    BEN_CASE,
    OLD_CASE,
    text_of,
)

PAGES = {
    None: ["/", "/login", "/register", "/no-such-page"],
    "ana@example.com": ["/orders/", "/tickets/", "/tickets/new", f"/tickets/{ANA_TICKET}",
                        f"/tickets/{ANA_QUEUED}", "/staff/", "/account", "/help/",
                        "/help/refund-policy"],
    "staff@example.com": ["/staff/", "/staff/?status=all", f"/staff/cases/{BEN_CASE}",
                          f"/staff/cases/{ANA_CASE}", f"/staff/cases/{OLD_CASE}", "/account",
                          "/staff/dashboard", "/staff/policies/",
                          "/staff/policies/refund_policy.md"],
}
CASES = [(who, path) for who, paths in PAGES.items() for path in paths]
LOCAL_ASSETS = {"/bootstrap/static/css/bootstrap.min.css", "/static/portal.css",
                "/static/favicon.svg", "/static/portal.js",
                "/bootstrap/static/umd/popper.min.js", "/bootstrap/static/js/bootstrap.min.js"}


@pytest.fixture
def page_for(client, auth):
    def _get(who, path):
        if who:
            auth.login(who)
        return client.get(path)
    return _get


@pytest.mark.parametrize("who,path", CASES)
def test_pages_use_only_local_assets_and_no_inline_script(page_for, who, path):
    response = page_for(who, path)
    html = text_of(response)
    assert response.mimetype == "text/html"
    without_tokens = re.sub(r'name="csrf_token"[^>]*>', "", html)  # random text may spell "cdn"
    assert not re.search(r"cdn|jsdelivr|unpkg|googleapis|cloudflare", without_tokens, re.I)
    urls = re.findall(r'(?:src|href|action)="([^"]*)"', html)
    assert urls and all(not re.match(r"^[a-z]+:|^//", u, re.I) for u in urls), urls
    assets = set(re.findall(r'<(?:link|script)[^>]*(?:href|src)="([^"]+)"', html))
    assert assets == LOCAL_ASSETS
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", html) == []  # no inline scripts
    assert " style=" not in html and " on" + "click=" not in html


@pytest.mark.parametrize("who,path", CASES)
def test_every_form_field_has_a_label(page_for, who, path):
    html = text_of(page_for(who, path))
    labels = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(?:hidden|submit)"', tag):
            continue
        field_id = re.search(r'id="([^"]+)"', tag)
        assert field_id and field_id.group(1) in labels, tag


@pytest.mark.parametrize("who,path", CASES)
def test_security_headers(page_for, who, path):
    response = page_for(who, path)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_bootstrap_is_served_from_the_installed_package(client):
    css = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert b"Bootstrap" in css.data[:200] and b"v5." in css.data[:200]
    js = client.get("/bootstrap/static/js/bootstrap.min.js")
    assert js.status_code == 200 and b"Bootstrap" in js.data[:200]
    assert client.get("/static/portal.css").status_code == 200


def test_navbar_shows_who_is_signed_in_and_their_links(client, auth):
    auth.login("ana@example.com")
    html = text_of(client.get("/orders/"))
    nav = re.search(r"<nav class=\"navbar.*?</nav>", html, re.S).group(0)
    assert "Ana Diaz" in nav and "My orders" in nav and "Escalation queue" not in nav
    assert 'aria-current="page">My orders</a>' in nav
    auth.logout()
    auth.login("staff@example.com")
    nav = re.search(r"<nav class=\"navbar.*?</nav>", text_of(client.get("/staff/")), re.S).group(0)
    assert "Sam Support" in nav and "Staff</span>" in nav and "My orders" not in nav


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/nope")
    assert response.status_code == 404 and "Page not found" in text_of(response)


def test_home_page_for_visitors_and_redirects_for_users(client, auth):
    assert "Sign in" in text_of(client.get("/"))
    auth.login("ana@example.com")
    assert client.get("/").headers["Location"] == "/tickets/"
    assert client.get("/login").headers["Location"] == "/tickets/"


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


@pytest.mark.parametrize("who,path", CASES)
def test_no_id_is_used_twice_on_a_page(page_for, who, path):
    """Black-box report bb5: the staff case page had five id="submit", the account page two."""
    parser = _Ids()
    parser.feed(text_of(page_for(who, path)))
    assert parser.ids, "no ids parsed"
    assert [i for i, n in parser.ids.items() if n > 1] == []
