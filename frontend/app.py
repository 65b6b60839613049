"""The portal's application factory: settings, database, API client, blueprints.

    python -m flask --app frontend.app:create_app run --port 5000

`test_config` may hold Flask settings (TESTING, WTF_CSRF_ENABLED, ...), a ready
`SETTINGS` object, and overrides of any config.Settings field by name
(`database_url`, `api_url`, `policies_dir`, ...).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta

from flask import Flask, flash, redirect, render_template, request, session
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager, current_user
from flask_login.utils import login_url
from flask_wtf.csrf import CSRFError, CSRFProtect

from audit.audit_log import AuditLog
from audit.log_setup import configure_logging
from config import Settings, get_settings
from db.engine import create_schema, engine_from_settings, make_session_factory
from frontend import filters
from frontend.api_client import ApiClient
from frontend.security import install_security_headers, safe_next
from frontend.services import users
from frontend.sessions import SESSION_TOKEN
from frontend.state import EXTENSION_KEY, PortalState, get_state
from frontend.throttle import make_throttle

log = logging.getLogger(__name__)


def _settings(test_config: dict) -> Settings:
    base = test_config.get("SETTINGS") or get_settings()
    overrides = {k.lower(): v for k, v in test_config.items()
                 if k.lower() in Settings.model_fields and k != "SETTINGS"}
    return Settings.model_validate({**base.model_dump(), **overrides}) if overrides else base


def create_app(test_config: dict | None = None) -> Flask:
    test_config = dict(test_config or {})
    settings = _settings(test_config)
    app = Flask(__name__)
    secret = settings.secret_key
    if not secret:
        log.warning("SECRET_KEY is not set: using a random one, so sessions end on restart "
                    "(run `make env` to create .env)")
        secret = secrets.token_urlsafe(32)
    app.config.from_mapping(
        SECRET_KEY=secret,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.portal_session_hours),
        MAX_CONTENT_LENGTH=1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        BOOTSTRAP_SERVE_LOCAL=True,
        LOGIN_MAX_FAILURES=settings.login_max_failures,
        LOGIN_WINDOW_SECONDS=settings.login_window_seconds,
        QUEUE_RETRY_WORKER=True, QUEUE_RETRY_INTERVAL=settings.queue_retry_seconds,
        QUEUE_RETRY_BACKOFF=5.0,
        INLINE_RETRY_TIMEOUT=min(10.0, settings.api_timeout_seconds),
    )
    app.config.update({k: v for k, v in test_config.items()
                       if k.isupper() and k.lower() not in Settings.model_fields})
    _behind_a_proxy(app, settings)
    configure_logging()

    engine = engine_from_settings(settings)
    create_schema(engine)  # migrations, under the same lock the API takes (db/migrate.py)
    factory = make_session_factory(engine)
    app.extensions[EXTENSION_KEY] = PortalState(
        settings=settings, engine=engine, factory=factory,
        api=ApiClient(settings.api_url, settings.support_api_key, settings.api_timeout_seconds),
        # Keyed with the configured secret (not a random one), so every process shares counts.
        throttle=make_throttle(settings.login_throttle_backend, factory, settings.redis_url,
                               app.config["LOGIN_MAX_FAILURES"],
                               app.config["LOGIN_WINDOW_SECONDS"],
                               settings.secret_key or "supportops-login-throttle"),
        audit=AuditLog(settings.audit_log_path),
        retry_backoff_seconds=app.config["QUEUE_RETRY_BACKOFF"],
        inline_retry_timeout=app.config["INLINE_RETRY_TIMEOUT"])

    CSRFProtect(app)
    Bootstrap5(app)
    _login_manager(app)
    filters.install(app)
    app.add_template_global(lambda: uuid.uuid4().hex, "fresh_key")
    app.add_template_global(lambda: f"At least {settings.password_min_length} characters, and "
                            "not a common password: a few unrelated words work well.",
                            "password_help")
    install_security_headers(app, hsts_seconds=settings.portal_hsts_seconds
                             if settings.portal_secure_cookies else 0)
    _error_pages(app)
    _blueprints(app)

    if app.config["QUEUE_RETRY_WORKER"] and not app.testing:
        from frontend.retry_worker import RetryWorker
        worker = RetryWorker(get_state_of(app), app.config["QUEUE_RETRY_INTERVAL"])
        worker.start()
        app.extensions["supportops_retry_worker"] = worker
    return app


def _behind_a_proxy(app: Flask, settings: Settings) -> None:
    """Behind a reverse proxy (README "Portal"): PORTAL_PROXY_HOPS=1 trusts one proxy's
    X-Forwarded-For/-Proto/-Host, so the sign-in throttle sees the customer's address and
    redirects keep https; PORTAL_SECURE_COOKIES=1 sends cookies over HTTPS only and turns on
    HSTS (install_security_headers)."""
    if settings.portal_proxy_hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.portal_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if settings.portal_secure_cookies:
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)


def get_state_of(app: Flask) -> PortalState:
    return app.extensions[EXTENSION_KEY]


def _login_manager(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to see that page."
    manager.login_message_category = "info"

    @manager.user_loader
    def _load(user_id: str):
        # Signed in only while the server-side session lives (frontend/sessions.py): a cookie
        # copied before sign-out or a password change no longer finds its row.
        return users.load_signed_in(get_state().factory, user_id, session.get(SESSION_TOKEN))

    @manager.unauthorized_handler
    def _sign_in_first():
        flash(manager.login_message, manager.login_message_category)
        return redirect(login_url("auth.login", next_url=page_behind(request)))


def page_behind(req) -> str:
    """The page a form was sent from, to come back to after signing in: a POST address such as
    /tickets/5/reply is not a page, /tickets/5 is (and its composer gets the kept draft)."""
    path = req.path
    parts = path.strip("/").split("/")
    if req.method == "GET":
        return req.full_path.rstrip("?") if req.query_string else path
    if len(parts) >= 2 and parts[0] == "tickets" and parts[1].isdigit():
        return f"/tickets/{parts[1]}"
    if parts[:2] == ["tickets", "new"]:
        return "/tickets/new"
    if len(parts) >= 3 and parts[:2] == ["staff", "cases"] and parts[2].isdigit():
        return f"/staff/cases/{parts[2]}"
    return "/"


def _blueprints(app: Flask) -> None:
    from frontend.views import auth, help, orders, policies, staff, tickets

    for module in (auth, orders, tickets, staff, policies, help):
        app.register_blueprint(module.bp)


def _error_pages(app: Flask) -> None:
    messages = {
        400: ("Something was wrong with that request", "Please go back and try again."),
        403: ("Not allowed", "This page is for our support team only."),
        404: ("Page not found", "We couldn't find that page. It may not exist, or it may "
                                "belong to another account."),
        405: ("Not allowed", "That page can't be used that way."),
        413: ("Too large", "That upload is too large."),
        500: ("Something went wrong", "Sorry, something broke on our side. Please try again."),
    }

    def _page(code: int):
        title, text = messages[code]
        return render_template("errors/error.html", code=code, title=title, text=text), code

    for code in messages:
        app.register_error_handler(code, lambda exc, code=code: _page(code))

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if not current_user.is_authenticated and request.endpoint not in ("auth.login",
                                                                          "auth.register"):
            # The session ended (its CSRF token with it): sign in again and come back to the
            # same page, where the browser has kept what was typed (static/portal.js).
            flash("Your session ended, so nothing was sent. Please sign in again — what you "
                  "were writing is kept in this browser.", "warning")
            return redirect(login_url("auth.login", next_url=safe_next(page_behind(request), "/")))
        return render_template(
            "errors/error.html", code=400, title="Your form expired",
            text="For your security, forms expire. Please go back, reload the page and try "
                 "again."), 400
