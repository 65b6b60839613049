"""The contract over real HTTP: `uvicorn api.main:app` in a subprocess on a free loopback port,
configured exactly as outside checks do it (environment variables + init_db --seed-file)."""

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from config import ROOT
from tests.api.conftest import shop


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("uvicorn")
    fixture = tmp / "fixture.json"
    fixture.write_text(json.dumps(shop()))
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'api.db'}",
           "SUPPORT_API_KEY": "real-http-key", "AGENT_MODE": "offline",
           "AUDIT_LOG_PATH": str(tmp / "audit.jsonl"), "HF_HUB_OFFLINE": "1"}
    subprocess.run([sys.executable, "init_db.py", "--seed-file", str(fixture), "--reset"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host",
                             "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "w"))
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError((tmp / "server.log").read_text()[-3000:])
    yield base, tmp
    proc.terminate()
    proc.wait(timeout=20)


def test_refund_over_real_http(server):
    base, tmp = server
    response = httpx.post(base + "/support/resolve", headers={"X-API-Key": "real-http-key"},
                          json={"user_input": "I want a refund for order #1042, it arrived "
                                              "broken; reach me at ana.d@example.com",
                                "user_id": 1, "conversation_id": None}, timeout=30)
    assert response.status_code == 200
    offer = response.json()
    assert offer["action_result"]["status"] == "needs_confirmation"
    response = httpx.post(base + "/support/confirm", headers={"X-API-Key": "real-http-key"},
                          json={"user_id": 1, "proposal_id": offer["proposal"]["id"]}, timeout=30)
    body = response.json()
    assert body["action"] == "issue_refund" and body["action_result"]["status"] == "success"
    assert body["action_result"]["amount"] == 59.99
    audit = (tmp / "audit.jsonl").read_text()
    assert response.headers["x-request-id"] in audit and "ana.d@example.com" not in audit
    assert "ana.d@example.com" not in (tmp / "server.log").read_text()


def test_auth_and_errors_over_real_http(server):
    base, _ = server
    assert httpx.post(base + "/support/resolve", json={}).status_code == 401
    bad = httpx.post(base + "/support/resolve", headers={"X-API-Key": "real-http-key"},
                     content=b"{oops", timeout=10)
    assert 400 <= bad.status_code < 500 and "error" in bad.json()
    assert httpx.get(base + "/health").json()["agent_mode"] == "offline"
