"""Who may see what: anonymous visitors sign in first, customers see only their own things,
staff pages are for staff."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.frontend.conftest import ANA_TICKET, BEN_CASE, BEN_TICKET, db_execute, text_of

CUSTOMER_PAGES = ["/orders/", "/tickets/", "/tickets/new", f"/tickets/{ANA_TICKET}"]
STAFF_PAGES = ["/staff/", "/staff/?status=all", f"/staff/cases/{BEN_CASE}", "/staff/dashboard",
               "/staff/policies/", "/staff/policies/refund_policy.md"]
PRIVATE_POSTS = ["/logout", f"/tickets/{ANA_TICKET}/reply", f"/tickets/{ANA_TICKET}/feedback",
                 f"/staff/cases/{BEN_CASE}/settle", "/staff/policies/"]


@pytest.mark.parametrize("path", CUSTOMER_PAGES + STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={quote(path, safe='')}"
    login = client.get(response.headers["Location"])
    assert login.status_code == 200
    assert f'name="next" type="hidden" value="{path}"' in text_of(login).replace("&amp;", "&")


@pytest.mark.parametrize("path", PRIVATE_POSTS)
def test_anonymous_posts_are_sent_to_login(client, auth, path):
    response = auth.post(path, {})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_customers_get_403_on_staff_pages(client, auth, path):
    auth.login("ana@example.com")
    response = client.get(path)
    assert response.status_code == 403
    assert "for our support team only" in text_of(response)


def test_customers_cannot_post_to_staff_forms(client, auth, factory):
    auth.login("ana@example.com")
    response = auth.post(f"/staff/cases/{BEN_CASE}/settle", {"outcome": "closed", "note": "x"})
    assert response.status_code == 403
    assert db_execute(factory, "SELECT status FROM escalations WHERE id = :i", i=BEN_CASE) == [
        ("open",)]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_can_open_every_staff_page(client, auth, path):
    auth.login("staff@example.com")
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [f"/tickets/{BEN_TICKET}", "/tickets/999999"])
def test_another_customers_ticket_is_a_404_like_a_missing_one(client, auth, path):
    auth.login("ana@example.com")
    response = client.get(path)
    assert response.status_code == 404
    body = text_of(response)
    assert "Page not found" in body
    assert "blender" not in body and "2001" not in body


@pytest.mark.parametrize("action,data", [
    ("reply", {"message": "Refund it to me instead"}),
    ("feedback", {"satisfied": "no", "comment": "escalate someone else's ticket"}),
])
def test_another_customers_ticket_cannot_be_replied_to_or_rated(client, auth, factory, action,
                                                                 data):
    auth.login("ana@example.com")
    response = auth.post(f"/tickets/{BEN_TICKET}/{action}", data)
    assert response.status_code == 404
    assert db_execute(factory, "SELECT satisfied FROM tickets WHERE id = :i", i=BEN_TICKET) == [
        (None,)]
    assert db_execute(factory, "SELECT count(*) FROM tickets") == [(3,)]


def test_customers_see_only_their_own_tickets_and_orders(client, auth):
    auth.login("ana@example.com")
    tickets = text_of(client.get("/tickets/"))
    assert f'data-ticket-id="{ANA_TICKET}"' in tickets
    assert f'data-ticket-id="{BEN_TICKET}"' not in tickets and "blender" not in tickets
    orders = text_of(client.get("/orders/"))
    assert 'data-order-id="1001"' in orders and 'data-order-id="2001"' not in orders


def test_the_order_picker_offers_only_own_orders_and_rejects_others(client, auth, factory):
    auth.login("ana@example.com")
    page = text_of(client.get("/tickets/new"))
    assert 'value="1001"' in page and 'value="2001"' not in page
    response = auth.post("/tickets/new", {"message": "Refund this one", "order_id": "2001"})
    assert response.status_code == 400
    assert "Not a valid choice" in text_of(response)
    assert db_execute(factory, "SELECT count(*) FROM tickets") == [(3,)]


def test_staff_case_page_for_a_missing_case_is_404(client, auth):
    auth.login("staff@example.com")
    assert client.get("/staff/cases/999").status_code == 404
    assert client.get("/staff/policies/missing.md").status_code == 404
    assert client.get("/staff/policies/..%2Fconfig.py").status_code == 404
