"""Staff: the queue (by due time, overdue marked), one case with everything a person needs to
work it, and the dashboard.

Pages read the database; every button calls the API's Staff API with the signed-in member of
staff's id (never an id from the browser), so the API alone changes cases and runs tools.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from frontend.api_client import ApiError, ApiUnavailable
from frontend.charts import bar_chart
from frontend.filters import label
from frontend.forms import (
    AssignCaseForm,
    CaseNoteForm,
    DecisionForm,
    HandBackForm,
    SettleCaseForm,
    StaffReplyForm,
)
from frontend.security import staff_required
from frontend.services import dashboard as dashboard_service
from frontend.services import escalations
from frontend.services import tickets as ticket_service
from frontend.state import get_state

bp = Blueprint("staff", __name__, url_prefix="/staff")

DONE = {"assign": "Case #{id} is now with {who}.", "reply": "Reply sent to the customer.",
        "note": "Internal note added.", "handback": "Handed back to the assistant.",
        "resolve": "Case #{id} marked resolved. The customer's ticket now shows it.",
        "close": "Case #{id} marked closed. The customer's ticket now shows it."}


@bp.route("/")
@staff_required
def queue():
    status = request.args.get("status", "waiting")
    if status not in escalations.FILTERS:
        status = "waiting"
    rows = escalations.list_cases(get_state().factory, status, current_user.id)
    last = ticket_service.last_messages(get_state().factory, [r.case.ticket_id for r in rows])
    seen = session.get(SEEN_KEY) if isinstance(session.get(SEEN_KEY), dict) else {}
    # The customer wrote last and nobody has opened the case since: that is "unread".
    unread = {r.case.id for r in rows
              if (m := last.get(r.case.ticket_id)) is not None and m.role == "user"
              and m.id > seen.get(str(r.case.id), 0)}
    return render_template("staff/queue.html", status=status, rows=rows, last=last,
                           unread=unread)


SEEN_KEY, SEEN_LIMIT = "staff_seen", 200


def _mark_seen(case_id: int, message_id: int) -> None:
    seen = session.get(SEEN_KEY) if isinstance(session.get(SEEN_KEY), dict) else {}
    seen = {k: v for k, v in seen.items() if k != str(case_id)}
    seen[str(case_id)] = message_id
    session[SEEN_KEY] = dict(list(seen.items())[-SEEN_LIMIT:])


def _forms(view, **given) -> dict:
    assign = given.get("assign") or AssignCaseForm(formdata=None)
    assign.assignee.choices = [(str(s.id), s.name + (" (me)" if s.id == current_user.id else ""))
                               for s in view.staff]
    if assign.assignee.data is None:
        assign.assignee.data = str(current_user.id)
    return {"assign": assign, "take": HandBackForm(formdata=None),
            "reply": given.get("reply") or StaffReplyForm(formdata=None),
            "note": given.get("note") or CaseNoteForm(formdata=None),
            "decision": given.get("decision") or DecisionForm(formdata=None),
            "handback": HandBackForm(formdata=None),
            "settle": given.get("settle") or SettleCaseForm(formdata=None)}


def _render_case(case_id: int, status: int = 200, **given):
    state = get_state()
    view = escalations.case_view(state.factory, state.audit, case_id)
    if view is None:
        abort(404)
    if view.transcript:
        _mark_seen(case_id, view.transcript[-1].id)
    return render_template("staff/case.html", view=view, forms=_forms(view, **given)), status


@bp.route("/cases/<int:case_id>")
@staff_required
def case(case_id: int):
    return _render_case(case_id)


def _call(case_id: int, step: str, success: str, **fields):
    """Ask the API to make the change; say what happened, or why nothing did."""
    if not escalations.exists(get_state().factory, case_id):
        abort(404)
    try:
        get_state().api.case_action(case_id, step, staff_id=current_user.id, **fields)
    except ApiUnavailable:
        flash("We couldn't reach the support service, so nothing was changed. Please try "
              "again in a moment.", "danger")
    except ApiError as exc:
        if exc.status == 404:
            abort(404)
        flash(f"Nothing was changed: {exc.message}", "warning")
    else:
        flash(success, "success")
        if step in ("resolve", "close", "handback"):
            return redirect(url_for("staff.queue"))
    return redirect(url_for("staff.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/assign", methods=["POST"])
@staff_required
def assign(case_id: int):
    view = escalations.case_view(get_state().factory, get_state().audit, case_id)
    if view is None:
        abort(404)
    form = AssignCaseForm()
    form.assignee.choices = [(str(s.id), s.name) for s in view.staff]
    if not form.assignee.data:  # the "Take it" button: the signed-in person
        form.assignee.data = str(current_user.id)
    if not form.validate_on_submit():
        return _render_case(case_id, 400, assign=form)
    who = next(s.name for s in view.staff if str(s.id) == form.assignee.data)
    return _call(case_id, "assign", DONE["assign"].format(id=case_id, who=who),
                 assignee_id=int(form.assignee.data))


@bp.route("/cases/<int:case_id>/reply", methods=["POST"])
@staff_required
def reply(case_id: int):
    form = StaffReplyForm()
    if not form.validate_on_submit():
        return _render_case(case_id, 400, reply=form)
    return _call(case_id, "reply", DONE["reply"], message=form.message.data)


@bp.route("/cases/<int:case_id>/note", methods=["POST"])
@staff_required
def note(case_id: int):
    form = CaseNoteForm()
    if not form.validate_on_submit():
        return _render_case(case_id, 400, note=form)
    return _call(case_id, "note", DONE["note"], body=form.body.data)


@bp.route("/cases/<int:case_id>/decision", methods=["POST"])
@staff_required
def decision(case_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_case(case_id, 400, decision=form)
    said = ("Approved: the refund was run through the API; the outcome is below."
            if form.decision.data == "approve" else "Denied: the customer has the reason.")
    return _call(case_id, "decision", said, decision=form.decision.data,
                 reason=form.reason.data or None)


@bp.route("/cases/<int:case_id>/handback", methods=["POST"])
@staff_required
def handback(case_id: int):
    if not HandBackForm().validate_on_submit():
        abort(400)
    return _call(case_id, "handback", DONE["handback"])


@bp.route("/cases/<int:case_id>/settle", methods=["POST"])
@staff_required
def settle(case_id: int):
    """Resolve or close, with a note the customer reads."""
    form = SettleCaseForm()
    if not form.validate_on_submit():
        return _render_case(case_id, 400, settle=form)
    step = "resolve" if form.outcome.data == "resolved" else "close"
    return _call(case_id, step, DONE[step].format(id=case_id), note=form.note.data)


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
