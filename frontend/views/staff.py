"""Staff: the escalation queue, one case with its context, and the dashboard."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from frontend.charts import bar_chart
from frontend.filters import label
from frontend.forms import SettleCaseForm
from frontend.security import staff_required
from frontend.services import dashboard as dashboard_service
from frontend.services import escalations
from frontend.state import get_state

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("/")
@staff_required
def queue():
    status = request.args.get("status", "open")
    if status not in escalations.CASE_STATUSES + ("all",):
        status = "open"
    return render_template("staff/queue.html", status=status,
                           cases=escalations.list_cases(get_state().factory, status))


def _render_case(case_id: int, form: SettleCaseForm, status: int = 200):
    state = get_state()
    view = escalations.case_view(state.factory, state.audit, case_id)
    if view is None:
        abort(404)
    return render_template("staff/case.html", view=view, form=form), status


@bp.route("/cases/<int:case_id>")
@staff_required
def case(case_id: int):
    return _render_case(case_id, SettleCaseForm(formdata=None))


@bp.route("/cases/<int:case_id>/settle", methods=["POST"])
@staff_required
def settle(case_id: int):
    form = SettleCaseForm()
    if not form.validate_on_submit():
        return _render_case(case_id, form, 400)
    state = get_state()
    try:
        settled = escalations.settle_case(state.factory, state.audit, case_id, form.outcome.data,
                                          form.note.data, current_user.id)
    except escalations.CaseAlreadyHandled as exc:
        flash(f"This case was already {exc}; nothing was changed.", "warning")
        return redirect(url_for("staff.case", case_id=case_id))
    if settled is None:
        abort(404)
    flash(f"Case #{case_id} marked {form.outcome.data}. The customer's ticket now shows it.",
          "success")
    return redirect(url_for("staff.queue"))


@bp.route("/dashboard")
@staff_required
def dashboard():
    data = dashboard_service.build(get_state().factory)
    charts = {
        "intent": bar_chart("Tickets by intent", [(label(k), v) for k, v in data.by_intent]),
        "outcome": bar_chart("Tickets by outcome", [(label(k), v) for k, v in data.by_outcome]),
        "status": bar_chart("Tickets by status",
                            [(label(k), v) for k, v in sorted(data.by_status.items(),
                                                                key=lambda kv: -kv[1])]),
    }
    return render_template("staff/dashboard.html", data=data, charts=charts)
