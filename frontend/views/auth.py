"""Sign in, sign out, create an account, change the password; the landing page.

Every sign-in starts a new session: the old cookie's contents are dropped (no session
fixation), a server-side session row is created (frontend/sessions.py) and a new CSRF token is
issued, so a token seen before sign-in is worthless after it. Signing out deletes the row, so
a copy of the cookie stops working too.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from frontend import sessions
from frontend.forms import ChangePasswordForm, LoginForm, RegisterForm, SignOutOthersForm
from frontend.security import safe_next
from frontend.services import users
from frontend.state import get_state

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    return url_for("staff.queue") if user.is_staff else url_for("tickets.list_tickets")


def _sign_in(user) -> None:
    """A fresh session for this sign-in: new cookie contents, a new server-side session and a new
    CSRF token (Flask-WTF keeps the raw token in the session and caches it on `g`)."""
    state = get_state()
    session.clear()
    g.pop("csrf_token", None)
    lifetime = timedelta(hours=state.settings.portal_session_hours)
    session[sessions.SESSION_TOKEN] = sessions.start(state.factory, user.id, lifetime)
    login_user(user)
    generate_csrf()


def _too_many(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return (f"Too many failed sign-in attempts. For your security, please wait about "
            f"{minutes} minute{'s' if minutes != 1 else ''} and try again.")


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("home.html")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"), "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data, home_for(current_user)))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400 if form.is_submitted() else 200

    state = get_state()
    key = state.throttle.key(form.email.data, request.remote_addr)
    # Reserved before the password hash is checked: parallel guesses past the limit are
    # refused here and never reach the (deliberately slow) hash.
    wait = state.throttle.reserve(key)
    if wait:
        flash(_too_many(wait), "danger")
        return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
    user = users.authenticate(state.factory, form.email.data, form.password.data)
    if user is None:  # the reserved attempt stays counted
        flash("That email and password don't match an account. Please try again.", "danger")
        return render_template("auth/login.html", form=form), 401
    state.throttle.clear(key)
    _sign_in(user)
    flash(f"Welcome back, {user.first_name}.", "success")
    return redirect(safe_next(form.next.data, home_for(user)))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end(get_state().factory, session.get(sessions.SESSION_TOKEN))
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = users.register(get_state().factory, form.name.data, form.email.data,
                                  form.password.data)
        except users.EmailTaken:
            form.email.errors.append("An account with this email already exists. "
                                     "Try signing in instead.")
        else:
            _sign_in(user)
            flash(f"Welcome, {user.first_name}! Your account is ready.", "success")
            return redirect(url_for("orders.list_orders"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _account_page(password_form=None, status: int = 200):
    state = get_state()
    others = sessions.count(state.factory, current_user.id) - 1
    return render_template("auth/account.html",
                           password_form=password_form or ChangePasswordForm(formdata=None),
                           others_form=SignOutOthersForm(formdata=None),
                           other_sessions=max(0, others)), status


@bp.route("/account")
@login_required
def account():
    return _account_page()


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 400)
    state = get_state()
    key = state.throttle.key(current_user.email, request.remote_addr)
    wait = state.throttle.reserve(key)  # the current password is a guess like any sign-in
    if wait:
        flash(_too_many(wait), "danger")
        return _account_page(form, 429)[0], 429, {"Retry-After": str(wait)}
    if not users.password_matches(state.factory, current_user.id, form.current.data):
        form.current.errors.append("That isn't your current password.")
        return _account_page(form, 400)
    state.throttle.clear(key)
    users.set_password(state.factory, current_user.id, form.password.data)
    user = current_user._get_current_object()
    sessions.end_all(state.factory, user.id)  # every browser, this one included...
    _sign_in(user)  # ...and this one starts afresh
    flash("Your password is changed. Anywhere else you were signed in, you are now signed out.",
          "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/sign-out-others", methods=["POST"])
@login_required
def sign_out_others():
    if not SignOutOthersForm().validate_on_submit():
        return _account_page(status=400)
    ended = sessions.end_all(get_state().factory, current_user.id,
                             keep=session.get(sessions.SESSION_TOKEN))
    flash(f"Signed out of {ended} other browser{'s' if ended != 1 else ''}." if ended else
          "You weren't signed in anywhere else.", "success")
    return redirect(url_for("auth.account"))
