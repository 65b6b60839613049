"""Start the API (:8000, uvicorn) and the portal (:5000, gunicorn) together; Ctrl-C stops both.

Used by `make run`. The API is served as in production (`api_command`, also what `make bench`
measures): uvicorn with uvloop and httptools (pinned), API_WORKERS processes (default 2, one
per core on the reference machine), no per-request access log line (requests are counted in
/metrics and carry an X-Request-ID). The offline brain is the default here unless AGENT_MODE is set. The portal
runs under gunicorn (a production WSGI server), never Flask's development server:
PORTAL_WORKERS processes (default 2) with PORTAL_THREADS threads each (default 4), and a
worker timeout above the API's own time limit so a slow answer is never cut off mid-way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
API_PORT = int(os.environ.get("API_PORT", "8000"))
PORTAL_PORT = int(os.environ.get("PORTAL_PORT", "5000"))


def wait_for(url: str, seconds: float = 120) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def api_command(port: int = API_PORT, workers: int | None = None) -> list[str]:
    """The production ASGI command: uvicorn's own multi-process supervisor, the uvloop event loop
    and the httptools parser (the pure-Python defaults, asyncio + h11, cost about three times as
    much CPU per request), and no access log (one log line per request is a measurable share of
    a /health call; /metrics counts every request instead)."""
    workers = workers or int(os.environ.get("API_WORKERS", "2"))
    return [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log"]


def portal_command() -> list[str]:
    api_timeout = float(os.environ.get("API_TIMEOUT_SECONDS", "30"))
    return [sys.executable, "-m", "gunicorn", "frontend.app:create_app()",
            "--bind", f"127.0.0.1:{PORTAL_PORT}",
            "--workers", os.environ.get("PORTAL_WORKERS", "2"),
            "--threads", os.environ.get("PORTAL_THREADS", "4"),
            "--timeout", str(int(api_timeout + 30)), "--graceful-timeout", "20",
            "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1"]


def main() -> int:
    env = {**os.environ, "AGENT_MODE": os.environ.get("AGENT_MODE", "offline"),
           "API_URL": f"http://127.0.0.1:{API_PORT}", "HF_HUB_OFFLINE": "1"}
    api = subprocess.Popen(api_command(), cwd=ROOT, env=env)
    portal = subprocess.Popen(portal_command(), cwd=ROOT, env=env)
    procs = [api, portal]

    def stop(*_):
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        ok = wait_for(f"http://127.0.0.1:{API_PORT}/health") and wait_for(
            f"http://127.0.0.1:{PORTAL_PORT}/login")
        logins = ROOT / "data" / "demo_logins.txt"
        print("\n" + "=" * 72)
        print(f"  Portal:   http://127.0.0.1:{PORTAL_PORT}")
        print(f"  API:      http://127.0.0.1:{API_PORT}   (docs: /docs, key in .env)")
        print(f"  Brain:    {env['AGENT_MODE']}")
        if logins.exists():
            print("  " + logins.read_text().replace("\n", "\n  ").rstrip())
        print("  Ctrl-C stops both." + ("" if ok else "  (a server did not come up; see above)"))
        print("=" * 72 + "\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
