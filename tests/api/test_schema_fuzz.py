"""A bounded schemathesis run over the OpenAPI schema: no generated input produces a 5xx.

Driven by hand (operation strategies + hypothesis) rather than through schemathesis'
pytest plugin, so it needs the session's real services, built by a fixture."""

import schemathesis
from hypothesis import HealthCheck, given, settings


def test_no_generated_request_gets_a_server_error(client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_5xx(case):
            response = case.call(headers={"X-API-Key": "test-key"})
            assert response.status_code < 500, (case.method, case.path, case.body,
                                                 response.text[:500])
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}

        no_5xx()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /support/resolve" in checked and len(checked) >= 8
