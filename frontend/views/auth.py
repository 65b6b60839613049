"""Sign in, sign out, create an account; the landing page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from frontend.forms import LoginForm, RegisterForm
from frontend.security import safe_next
from frontend.services import users
from frontend.state import get_state

bp = Blueprint("auth", __name__)


def home_for(user) -> str:
    return url_for("staff.queue") if user.is_staff else url_for("tickets.list_tickets")


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
    wait = state.throttle.retry_after(key)
    if wait:
        minutes = max(1, round(wait / 60))
        flash(f"Too many failed sign-in attempts. For your security, please wait about "
              f"{minutes} minute{'s' if minutes != 1 else ''} and try again.", "danger")
        response = render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        return response
    user = users.authenticate(state.factory, form.email.data, form.password.data)
    if user is None:
        state.throttle.record_failure(key)
        flash("That email and password don't match an account. Please try again.", "danger")
        return render_template("auth/login.html", form=form), 401
    state.throttle.reset(key)
    login_user(user)
    flash(f"Welcome back, {user.first_name}.", "success")
    return redirect(safe_next(form.next.data, home_for(user)))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
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
            login_user(user)
            flash(f"Welcome, {user.first_name}! Your account is ready.", "success")
            return redirect(url_for("orders.list_orders"))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status
