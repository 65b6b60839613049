"""Access rules and HTTP hardening shared by every blueprint."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort
from flask_login import current_user, login_required

CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; object-src 'none'; base-uri 'none'; "
                           "frame-ancestors 'none'; form-action 'self'")


def safe_next(target: str | None, default: str) -> str:
    """Only a local path may be a redirect target: '/tickets/3' yes; '//evil', 'http://x' no."""
    if not target or not isinstance(target, str):
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def staff_required(view):
    """Staff pages: anonymous visitors go to the login page, customers get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if getattr(current_user, "role", None) != "staff":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def install_security_headers(app: Flask, hsts_seconds: int = 0) -> None:
    """`hsts_seconds` > 0 (PORTAL_SECURE_COOKIES=1): browsers then only ever use HTTPS for the
    portal. Sent on every answer; browsers ignore it over plain HTTP, so a proxy that forgets
    X-Forwarded-Proto cannot switch it off."""
    hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else None

    @app.after_request
    def _headers(response):
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", hsts)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
