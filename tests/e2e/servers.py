"""Real servers for integration and browser tests: the agent API (uvicorn, in a subprocess)
seeded from a fixture with init_db.py, and the portal (werkzeug, in a thread).

One API stack per test session, shared by tests/frontend and tests/e2e through
`shared_api_stack()`. Every customer in the fixture belongs to one test area, so
tests sharing the database never trip over each other's tickets.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests
from werkzeug.serving import make_server

from config import ROOT
from db.models import utcnow
from tests.e2e.mailbox import Mailbox

API_KEY = "e2e-service-key"
SECRET = "e2e-portal-secret"
PASSWORD = "portal-pass-123"
STAFF = {"id": 90, "name": "Sam Support", "email": "staff@shop.test", "password": "staff-pass-456",
         "role": "staff"}
# Customers, one per test area (see the tests that use them).
CUSTOMERS = {
    "refund": {"id": 11, "name": "Ana Diaz", "email": "ana@shop.test", "order": "5101"},
    "other": {"id": 12, "name": "Ben Carter", "email": "ben@shop.test", "order": "5201"},
    "queue": {"id": 13, "name": "Chloe Nguyen", "email": "chloe@shop.test", "order": "5301"},
    "worker": {"id": 14, "name": "David Okafor", "email": "david@shop.test", "order": "5401"},
    "follow": {"id": 15, "name": "Emma Rossi", "email": "emma@shop.test", "order": "5501"},
    "feedback": {"id": 16, "name": "Farid Haddad", "email": "farid@shop.test", "order": "5601"},
    "repeat": {"id": 17, "name": "Hugo Martin", "email": "hugo@shop.test", "order": "5701"},
    "timeout": {"id": 18, "name": "Iris Novak", "email": "iris@shop.test", "order": "5801"},
    "decline": {"id": 19, "name": "Jon Berg", "email": "jon@shop.test", "order": "5901",
                "status": "pending"},
    # People in the loop (tests/frontend/test_staff_actions.py, tests/e2e/test_staff_journey.py)
    "staff_flow": {"id": 20, "name": "Kai Lund", "email": "kai@shop.test", "order": "6001"},
    "approve": {"id": 21, "name": "Lena Vogel", "email": "lena@shop.test", "order": "6101",
                "total": 649.00},
    "deny": {"id": 22, "name": "Mo Salah", "email": "mo@shop.test", "order": "6201",
             "total": 720.00},
    "handback": {"id": 23, "name": "Nina Park", "email": "nina@shop.test", "order": "6301"},
    "journey": {"id": 24, "name": "Omar Haddad", "email": "omar@shop.test", "order": "6401",
                "total": 649.00},
    # The live conversation (tests/e2e/test_conversation.py and friends): some customers have
    # a second order, so the assistant asks "which order?" and shows cards to pick from.
    "live": {"id": 25, "name": "Pia Lang", "email": "pia@shop.test", "order": "6501",
             "more": [("6502", "Wireless mouse", 25.00)]},
    "person": {"id": 26, "name": "Quinn Reyes", "email": "quinn@shop.test", "order": "6601"},
    "rate": {"id": 27, "name": "Rosa Diaz", "email": "rosa@shop.test", "order": "6701"},
    "draft": {"id": 28, "name": "Sven Olsen", "email": "sven@shop.test", "order": "6801"},
    "nojs": {"id": 29, "name": "Tara Singh", "email": "tara@shop.test", "order": "6901",
             "more": [("6902", "Wireless mouse", 25.00)]},
    "keyboard": {"id": 30, "name": "Uma Patel", "email": "uma@shop.test", "order": "7001",
                 "more": [("7002", "Wireless mouse", 25.00)]},
    "mobile": {"id": 31, "name": "Vic Moreau", "email": "vic@shop.test", "order": "7101",
               "more": [("7102", "Wireless mouse", 25.00)]},
    "tour": {"id": 32, "name": "Wen Li", "email": "wen@shop.test", "order": "7201",
             "more": [("7202", "Wireless mouse", 25.00)]},
    "slow": {"id": 33, "name": "Xena Ruiz", "email": "xena@shop.test", "order": "7301"},
    # Black-box findings (tests/e2e/test_portal_fixes.py).
    "sent": {"id": 34, "name": "Yara Haddad", "email": "yara@shop.test", "order": "7401",
             "more": [("7402", "Wireless mouse", 25.00)]},
    "layout": {"id": 35, "name": "Zoe Brandt", "email": "zoe@shop.test", "order": "7501"},
    "session": {"id": 36, "name": "Abel Costa", "email": "abel@shop.test", "order": "7601"},
    # PII in a request that timed out (tests/frontend/test_portal_writes.py).
    "replay_pii": {"id": 37, "name": "Bea Lind", "email": "bea@shop.test", "order": "7701"},
    # A reply sent while the API is down (tests/frontend/test_queued_reply.py), receipts under
    # the message that acted (tests/frontend/test_receipts.py).
    "queued_reply": {"id": 38, "name": "Cai Rowe", "email": "cai@shop.test", "order": "7801"},
    "receipts": {"id": 39, "name": "Dina Moss", "email": "dina@shop.test", "order": "7901",
                 "more": [("7902", "Wireless mouse", 25.00)]},
    "approved_receipt": {"id": 40, "name": "Eli Park", "email": "eli@shop.test", "order": "8001",
                         "total": 649.00},
    # Focus you can see on the main buttons (tests/e2e/test_bb5_fixes.py).
    "focus": {"id": 41, "name": "Fay Quinn", "email": "fay@shop.test", "order": "8101"},
    # Long item names and SKUs at 390 px, a staff case page at both widths
    # (tests/e2e/test_bb5_layout.py).
    "wrap": {"id": 42, "name": "Gus Hale", "email": "gus@shop.test", "order": "8201",
             "more": [("8202", "Noise-cancelling over-ear headphones with travel case", 25.00)]},
}
_ENV_DROP = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TAVILY_API_KEY", "REDIS_URL", "SMTP_USER",
             "SMTP_PASSWORD")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _iso(days_ago: float) -> str:
    return (utcnow() - timedelta(days=days_ago)).replace(microsecond=0).isoformat() + "Z"


def fixture() -> dict:
    users = [{"id": c["id"], "name": c["name"], "email": c["email"], "password": PASSWORD}
             for c in CUSTOMERS.values()] + [STAFF]
    orders = []
    for i, c in enumerate(CUSTOMERS.values()):
        price = c.get("total", 40.00 + i * 5)
        order = {"id": c["order"], "user_id": c["id"], "status": c.get("status", "delivered"),
                 "total": price, "ordered_at": _iso(8),
                 "items": [{"sku": f"SKU-{c['order']}", "name": "Desk lamp", "qty": 1,
                            "price": price}]}
        if order["status"] == "delivered":
            order.update(shipped_at=_iso(7), delivered_at=_iso(5), carrier="UPS",
                         tracking_number=f"1Z{c['order']}")
        orders.append(order)
        for oid, name, total in c.get("more", []):
            orders.append({"id": oid, "user_id": c["id"], "status": "delivered", "total": total,
                           "ordered_at": _iso(9), "shipped_at": _iso(8), "delivered_at": _iso(6),
                           "carrier": "DHL", "tracking_number": f"JD{oid}",
                           "items": [{"sku": f"SKU-{oid}", "name": name, "qty": 1,
                                      "price": total}]})
    return {"users": users, "orders": orders, "refunds": []}


@dataclass
class ApiStack:
    url: str
    root: Path
    database_url: str
    audit_log_path: Path
    policies_dir: Path
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    # The API sends customers' e-mail here (a real SMTP server on loopback).
    mailbox: Mailbox | None = None

    def portal_config(self, **extra) -> dict:
        return {"database_url": self.database_url, "api_url": self.url,
                "support_api_key": API_KEY, "secret_key": SECRET,
                "audit_log_path": self.audit_log_path, "policies_dir": self.policies_dir,
                **extra}

    def stop(self) -> None:
        if self.mailbox is not None:
            self.mailbox.stop()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _env(stack: ApiStack) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _ENV_DROP}
    env.update(DATABASE_URL=stack.database_url, SUPPORT_API_KEY=API_KEY, AGENT_MODE="offline",
               AUDIT_LOG_PATH=str(stack.audit_log_path), POLICIES_DIR=str(stack.policies_dir),
               INDEX_DIR=str(stack.root / "index"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    if stack.mailbox is not None:
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(stack.mailbox.port),
                   SMTP_STARTTLS="false", MAIL_POLL_SECONDS="0.3",
                   MAIL_RETRY_BASE_SECONDS="0.5", PORTAL_URL="http://portal.test")
    return env


def start_api(root: Path, startup_timeout: float = 240.0) -> ApiStack:
    root.mkdir(parents=True, exist_ok=True)
    stack = ApiStack(url="", root=root, database_url=f"sqlite:///{root / 'shop.db'}",
                     audit_log_path=root / "audit.jsonl", policies_dir=root / "policies",
                     log_path=root / "api.log", mailbox=Mailbox().start())
    shutil.copytree(ROOT / "policies", stack.policies_dir)
    seed = root / "seed.json"
    seed.write_text(json.dumps(fixture()), encoding="utf-8")
    env = _env(stack)
    init = subprocess.run([sys.executable, "init_db.py", "--seed-file", str(seed), "--reset"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if init.returncode != 0:
        raise RuntimeError(f"init_db.py failed:\n{init.stdout}\n{init.stderr}")
    port = free_port()
    stack.url = f"http://127.0.0.1:{port}"
    log = stack.log_path.open("w")
    stack.process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
         str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"the API exited ({stack.process.returncode}):\n"
                               + stack.log_path.read_text()[-4000:])
        try:
            if requests.get(stack.url + "/health", timeout=2).status_code == 200:
                return stack
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stack.stop()
    raise RuntimeError("the API did not become healthy in time:\n"
                       + stack.log_path.read_text()[-4000:])


_shared: dict[str, ApiStack] = {}
_lock = threading.Lock()


def shared_api_stack(tmp_root: Path) -> ApiStack:
    """The session's one API stack, started on first use."""
    with _lock:
        if "stack" not in _shared:
            _shared["stack"] = start_api(tmp_root / "api-stack")
        return _shared["stack"]


def stop_shared_api_stack() -> None:
    with _lock:
        stack = _shared.pop("stack", None)
    if stack:
        stack.stop()


@dataclass
class PortalServer:
    url: str
    app: object
    _server: object = field(repr=False, default=None)
    _thread: threading.Thread | None = field(repr=False, default=None)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def start_portal(config: dict) -> PortalServer:
    from frontend.app import create_app

    app = create_app(config)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal", daemon=True)
    thread.start()
    return PortalServer(url=f"http://127.0.0.1:{port}", app=app, _server=server, _thread=thread)


# Imported by tests/frontend/conftest.py and tests/e2e/conftest.py; both get the same stack.
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def api_stack(tmp_path_factory) -> ApiStack:
    stack = shared_api_stack(tmp_path_factory.getbasetemp())
    yield stack
    stop_shared_api_stack()
