"""The portal's application factory: settings, database, API client, blueprints.

    python -m flask --app frontend.app:create_app run --port 5000

`test_config` may hold Flask settings (TESTING, WTF_CSRF_ENABLED, ...), a ready
`SETTINGS` object, and overrides of any config.Settings field by name
(`database_url`, `api_url`, `policies_dir`, ...).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Flask, render_template
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from audit.audit_log import AuditLog
from audit.log_setup import configure_logging
from config import Settings, get_settings
from db.engine import make_engine, make_session_factory
from frontend import filters
from frontend.api_client import ApiClient
from frontend.security import install_security_headers
from frontend.services import users
from frontend.state import EXTENSION_KEY, PortalState, get_state
from frontend.throttle import LoginThrottle

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
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
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
    configure_logging()

    engine = make_engine(settings.database_url)
    app.extensions[EXTENSION_KEY] = PortalState(
        settings=settings, engine=engine, factory=make_session_factory(engine),
        api=ApiClient(settings.api_url, settings.support_api_key, settings.api_timeout_seconds),
        throttle=LoginThrottle(app.config["LOGIN_MAX_FAILURES"],
                               app.config["LOGIN_WINDOW_SECONDS"]),
        audit=AuditLog(settings.audit_log_path),
        retry_backoff_seconds=app.config["QUEUE_RETRY_BACKOFF"],
        inline_retry_timeout=app.config["INLINE_RETRY_TIMEOUT"])

    CSRFProtect(app)
    Bootstrap5(app)
    _login_manager(app)
    filters.install(app)
    install_security_headers(app)
    _error_pages(app)
    _blueprints(app)

    if app.config["QUEUE_RETRY_WORKER"] and not app.testing:
        from frontend.retry_worker import RetryWorker
        worker = RetryWorker(get_state_of(app), app.config["QUEUE_RETRY_INTERVAL"])
        worker.start()
        app.extensions["supportops_retry_worker"] = worker
    return app


def get_state_of(app: Flask) -> PortalState:
    return app.extensions[EXTENSION_KEY]


def _login_manager(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Please sign in to see that page."
    manager.login_message_category = "info"

    @manager.user_loader
    def _load(user_id: str):
        return users.load_user(get_state().factory, user_id)


def _blueprints(app: Flask) -> None:
    from frontend.views import auth, orders, policies, staff, tickets

    for module in (auth, orders, tickets, staff, policies):
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
        return render_template(
            "errors/error.html", code=400, title="Your form expired",
            text="For your security, forms expire. Please go back, reload the page and try "
                 "again."), 400
