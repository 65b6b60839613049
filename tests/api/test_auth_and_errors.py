"""API key on everything but health/metrics/docs; one error shape; no 500 for bad input."""

import pytest

from tests.api.conftest import KEY, resolve

PROTECTED = [("post", "/support/resolve", {"user_input": "hi", "user_id": 1}),
             ("get", "/tickets?user_id=1", None), ("get", "/tickets/1", None),
             ("post", "/tickets/1/feedback", {"satisfied": True}),
             ("get", "/conversation/abc", None), ("delete", "/conversation/abc", None)]


def assert_error(response, status, code=None):
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    assert "Traceback" not in response.text


@pytest.mark.parametrize("method,path,body", PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_protected_endpoints_need_the_key(client, method, path, body, headers):
    response = client.request(method.upper(), path, json=body, headers=headers)
    assert_error(response, 401, "unauthorized")


def test_missing_key_wins_over_a_bad_body(client):
    assert_error(client.post("/support/resolve", json={"nonsense": True}), 401)


def test_server_without_a_key_refuses_everyone(make_client):
    client = make_client(support_api_key=None)
    assert_error(resolve(client, "hi"), 401)


@pytest.mark.parametrize("path", ["/health", "/metrics", "/docs", "/openapi.json"])
def test_open_endpoints(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("body,field", [
    ({"user_id": 1}, "user_input"),
    ({"user_input": "hi"}, "user_id"),
    ({"user_input": "   \n ", "user_id": 1}, "user_input"),
    ({"user_input": "x" * 4001, "user_id": 1}, "user_input"),
    ({"user_input": 42, "user_id": 1}, "user_input"),
    ({"user_input": "hi", "user_id": "one"}, "user_id"),
    ({"user_input": "hi", "user_id": True}, "user_id"),
    ({"user_input": "hi", "user_id": 1.5}, "user_id"),
    ({"user_input": "hi", "user_id": 10**30}, "user_id"),
    ({"user_input": "hi", "user_id": 1, "conversation_id": "x" * 65}, "conversation_id"),
    ({"user_input": None, "user_id": 1}, "user_input"),
])
def test_invalid_resolve_bodies_get_422_naming_the_field(client, body, field):
    response = client.post("/support/resolve", json=body, headers=KEY)
    assert_error(response, 422, "validation_error")
    assert field in response.json()["error"]["message"]


def test_text_of_exactly_4000_characters_after_trimming_is_accepted(client):
    assert resolve(client, "  " + "a" * 4000 + "  ").status_code == 200


@pytest.mark.parametrize("raw", ["{not json", "[]", "null", ""])
def test_malformed_json_is_a_4xx(client, raw):
    response = client.post("/support/resolve", content=raw,
                           headers={**KEY, "content-type": "application/json"})
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


@pytest.mark.parametrize("user_id", [999, 0, -1, 2**40])
def test_unknown_user_is_404(client, user_id):
    assert_error(resolve(client, "hi", user_id=user_id), 404, "user_not_found")


def test_body_size_limit(client):
    response = client.post("/support/resolve", content=b"{" + b" " * 70_000 + b"}",
                           headers={**KEY, "content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")


def test_unknown_route_and_method(client):
    assert_error(client.get("/nope", headers=KEY), 404)
    assert_error(client.put("/support/resolve", headers=KEY), 405)


def test_unexpected_failure_is_a_500_with_request_id_and_no_trace(make_client, fresh_db,
                                                                 monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals ana@example.com")
    monkeypatch.setattr(fresh_db.agent, "resolve", explode)
    response = resolve(make_client(), "hi")
    assert_error(response, 500, "internal_error")
    assert response.headers["X-Request-ID"] in response.json()["error"]["message"]
    assert "secret internals" not in response.text


def test_every_response_has_a_request_id(client):
    for response in (client.get("/health"), resolve(client, "hi"), client.get("/tickets/1")):
        assert len(response.headers["X-Request-ID"]) >= 8
    echoed = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


def test_no_wildcard_cors(client):
    response = client.options("/support/resolve", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert response.headers.get("access-control-allow-origin") in (None, "")
