"""My orders."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from frontend.services.orders import orders_for_user
from frontend.state import get_state

bp = Blueprint("orders", __name__, url_prefix="/orders")


@bp.route("/")
@login_required
def list_orders():
    return render_template("orders/list.html",
                           orders=orders_for_user(get_state().factory, current_user.id))
