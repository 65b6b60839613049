"""New requests, my tickets, a ticket page with follow-up replies and feedback."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from frontend.api_client import ApiError, ApiUnavailable
from frontend.forms import FeedbackForm, OfferForm, ReplyForm, RequestForm
from frontend.services import escalations, offers, queue, support
from frontend.services import tickets as ticket_service
from frontend.services.orders import order_choices
from frontend.state import get_state

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

QUEUED_MESSAGE = ("Our assistant is unavailable right now, so we've saved your request. "
                  "It is queued and will be processed automatically as soon as the service is "
                  "back; you don't need to send it again.")


def _retry_my_queue() -> None:
    """Nothing typed is lost: a customer's queued requests are retried when they look at them."""
    state = get_state()
    queue.retry_queued(state, current_user.id, limit=5, timeout=state.inline_retry_timeout)


def _own_ticket_or_404(ticket_id: int):
    ticket = ticket_service.get_for_user(get_state().factory, current_user.id, ticket_id)
    if ticket is None:
        abort(404)
    return ticket


def _fresh_key() -> str:
    return uuid.uuid4().hex


def _after_submit(result: support.Submitted):
    if result.queued:
        flash(QUEUED_MESSAGE, "warning")
    return redirect(url_for("tickets.show", ticket_id=result.ticket_id))


@bp.route("/")
@login_required
def list_tickets():
    _retry_my_queue()
    return render_template("tickets/list.html",
                           tickets=ticket_service.list_for_user(get_state().factory,
                                                                current_user.id))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    state = get_state()
    choices = order_choices(state.factory, current_user.id)
    form = RequestForm()
    form.order_id.choices = [("", "No specific order")] + choices
    if request.method == "GET":
        form.order_id.data = request.args.get("order", "")
        if form.order_id.data not in {c[0] for c in choices}:
            form.order_id.data = ""
        form.request_key.data = _fresh_key()
    if form.validate_on_submit():
        text = support.with_picked_order(form.message.data, form.order_id.data or None,
                                         [c[0] for c in choices])
        try:
            result = support.submit(state, current_user.id, text,
                                    request_key=form.request_key.data or None)
        except support.Refused as exc:
            flash(f"We couldn't take that request: {exc.message}", "danger")
            form.request_key.data = _fresh_key()
        else:
            return _after_submit(result)
    status = 400 if form.is_submitted() else 200
    return render_template("tickets/new.html", form=form, has_orders=bool(choices)), status


def _render_ticket(ticket, reply_form=None, feedback_form=None, status=200):
    state = get_state()
    if reply_form is None:
        reply_form = ReplyForm(formdata=None, request_key=_fresh_key())
    return render_template(
        "tickets/detail.html", ticket=ticket,
        transcript=ticket_service.transcript(state.factory, ticket.conversation_id),
        siblings=ticket_service.conversation_tickets(state.factory, current_user.id,
                                                     ticket.conversation_id),
        escalation=escalations.customer_notice(state.factory, ticket.id),
        offer=offers.open_offer(state.factory, current_user.id, ticket),
        offer_form=OfferForm(formdata=None),
        actions=ticket_service.actions(state.factory, ticket.id),
        reply_form=reply_form, feedback_form=feedback_form or FeedbackForm(formdata=None),
    ), status


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    if ticket.status == "queued":
        _retry_my_queue()
        ticket = _own_ticket_or_404(ticket_id)
    return _render_ticket(ticket)


@bp.route("/<int:ticket_id>/reply", methods=["POST"])
@login_required
def reply(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    form = ReplyForm()
    if not ticket.conversation_id:
        flash("This request hasn't been processed yet, so it can't take a reply. "
              "Please start a new request instead.", "warning")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    if form.validate_on_submit():
        try:
            result = support.submit(get_state(), current_user.id, form.message.data,
                                    conversation_id=ticket.conversation_id,
                                    request_key=form.request_key.data or None)
        except support.Refused as exc:
            flash(f"We couldn't take that reply: {exc.message}", "danger")
            form.request_key.data = _fresh_key()
        else:
            return _after_submit(result)
    return _render_ticket(ticket, reply_form=form, status=400)


@bp.route("/<int:ticket_id>/feedback", methods=["POST"])
@login_required
def feedback(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    form = FeedbackForm()
    if ticket.status == "queued":
        flash("You can rate this request once it has been processed.", "warning")
        return redirect(url_for("tickets.show", ticket_id=ticket.id))
    if not form.validate_on_submit():
        return _render_ticket(ticket, feedback_form=form, status=400)
    satisfied = form.satisfied.data == "yes"
    try:
        get_state().api.feedback(ticket.id, user_id=current_user.id, satisfied=satisfied,
                                 rating=int(form.rating.data) if form.rating.data else None,
                                 comment=form.comment.data or None)
    except (ApiUnavailable, ApiError) as exc:
        message = exc.message if isinstance(exc, ApiError) and not exc.retryable else (
            "Our support service is unavailable right now, so your feedback wasn't saved. "
            "Please try again in a moment.")
        flash(message, "danger")
        return _render_ticket(ticket, feedback_form=form, status=503 if isinstance(
            exc, ApiUnavailable) else 400)
    if satisfied:
        flash("Thanks for your feedback!", "success")
    else:
        flash("Sorry we didn't get this right. We've passed your case to a support specialist, "
              "who will follow up with you.", "info")
    return redirect(url_for("tickets.show", ticket_id=ticket.id))


OFFER_GONE = {
    "proposal_expired": "That offer expired, so nothing was changed. Send your request again and "
                        "we'll check your order afresh.",
    "proposal_dropped": "That offer was withdrawn because the conversation moved on, so nothing "
                        "was changed.",
    "proposal_not_found": "We couldn't find that offer, so nothing was changed.",
}


def _answer_offer(ticket_id: int, proposal_id: str, yes: bool):
    """Confirm or Not now: the API decides and acts; the portal only passes the customer's
    answer on (with the signed-in customer's id, never one from the browser)."""
    _own_ticket_or_404(ticket_id)
    if not OfferForm().validate_on_submit():
        abort(400)
    api = get_state().api
    try:
        answer = (api.confirm if yes else api.decline)(proposal_id, user_id=current_user.id)
    except ApiUnavailable:
        flash("We couldn't reach our support service, so nothing was changed. Please press the "
              "button again in a moment.", "danger")
    except ApiError as exc:
        flash(OFFER_GONE.get(exc.code, exc.message), "warning")
    else:
        result = answer.get("action_result") or {}
        category = {"success": "success", "escalated": "info"}.get(result.get("status"), "info")
        flash(answer.get("response") or "Done.", category if yes else "info")
    return redirect(url_for("tickets.show", ticket_id=ticket_id))


@bp.route("/<int:ticket_id>/offers/<proposal_id>/confirm", methods=["POST"])
@login_required
def confirm_offer(ticket_id: int, proposal_id: str):
    return _answer_offer(ticket_id, proposal_id, yes=True)


@bp.route("/<int:ticket_id>/offers/<proposal_id>/decline", methods=["POST"])
@login_required
def decline_offer(ticket_id: int, proposal_id: str):
    return _answer_offer(ticket_id, proposal_id, yes=False)
