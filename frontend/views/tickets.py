"""New requests, my conversations, and the ticket page as one live conversation: the thread,
clickable replies (order cards, Confirm / Not now, a person, follow-ups), one-tap rating and
a composer. Every button is a plain CSRF-protected form; static/portal.js sends them in
place when JavaScript is on."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from db.models import utcnow
from frontend.api_client import ApiError, ApiUnavailable
from frontend.forms import RATING_LABELS, FeedbackForm, OfferForm, ReplyForm, RequestForm
from frontend.services import (
    conversation,
    escalations,
    help_centre,
    offers,
    queue,
    small_talk,
    support,
)
from frontend.services import tickets as ticket_service
from frontend.services.orders import order_choices
from frontend.state import get_state

bp = Blueprint("tickets", __name__, url_prefix="/tickets")

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


def _to_ticket(ticket_id: int):
    """Back to the conversation, scrolled to the latest answer."""
    return redirect(url_for("tickets.show", ticket_id=ticket_id, _anchor="latest"))


def _after_submit(result: support.Submitted, conversation_ticket: int | None = None):
    """A queued reply stays in its conversation (the page says it is not sent yet); the queued
    notice is on that page, so no flash repeats it."""
    if result.queued and conversation_ticket is not None:
        return _to_ticket(conversation_ticket)
    return _to_ticket(result.ticket_id)


SEEN_KEY, SEEN_LIMIT = "seen", 100


def _seen() -> dict[str, int]:
    seen = session.get(SEEN_KEY)
    return seen if isinstance(seen, dict) else {}


def _mark_seen(key: str, message_id: int) -> None:
    """Which messages this browser session has seen (bounded), for the unread dot."""
    seen = {k: v for k, v in _seen().items() if k != key}
    seen[key] = message_id
    session[SEEN_KEY] = dict(list(seen.items())[-SEEN_LIMIT:])


@bp.route("/")
@login_required
def list_tickets():
    _retry_my_queue()
    cards = ticket_service.conversation_cards(get_state().factory, current_user.id)
    show = request.args.get("show", "all")
    if show not in ("all", "open", "solved"):
        show = "all"
    counts = {"all": len(cards), "solved": sum(c.solved for c in cards)}
    counts["open"] = counts["all"] - counts["solved"]
    seen = _seen()
    # A reply from a person arrives while the customer is away: that is what "unread" marks.
    unread = {c.key for c in cards
              if c.last_role == "agent" and c.last_message_id > seen.get(c.key, 0)}
    shown = [c for c in cards if show == "all" or (show == "solved") == c.solved]
    return render_template("tickets/list.html", cards=shown, show=show, counts=counts,
                           unread=unread)


def _small_talk_lines(text: str, status: str | None = None) -> list[conversation.Line]:
    """A greeting or thanks, answered in place: shown, not stored, no ticket. `status` is the
    ticket's, so the answer says what its badge says."""
    now = utcnow()
    answer = small_talk.reply_to(text, current_user.first_name, status)
    return [conversation.Line("user", text, now),
            conversation.Line("assistant", answer, now, latest_answer=True)]


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
    extra_lines: list = []
    if form.validate_on_submit() and small_talk.is_small_talk(form.message.data):
        extra_lines = _small_talk_lines(form.message.data)
        form = RequestForm(formdata=None, request_key=_fresh_key())
        form.order_id.choices = [("", "No specific order")] + choices
        return render_template("tickets/new.html", form=form, has_orders=bool(choices),
                               extra_lines=extra_lines)
    if form.is_submitted() and not form.errors:
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
    return render_template("tickets/new.html", form=form, has_orders=bool(choices),
                           extra_lines=extra_lines), status


OFFER_STEPS = {"issue_refund": "Refunding {amount} to your original payment method",
               "cancel_order": "Cancelling the order and refunding {amount}",
               "create_replacement": "Creating your free replacement order"}


def _sources(ticket) -> list[dict]:
    folder = get_state().settings.policies_dir
    found, seen = [], set()
    for src in ticket.policy_sources or []:
        if not isinstance(src, dict):
            continue
        cited = help_centre.citation(folder, src.get("source"), src.get("section"))
        if cited and (cited["slug"], cited["section"]) not in seen:
            seen.add((cited["slug"], cited["section"]))
            found.append(cited)
    return found


def _conversation_of(ticket):
    """Show the conversation's latest ticket: its answer, offer and replies are the live ones."""
    state = get_state()
    siblings = ticket_service.conversation_tickets(state.factory, current_user.id,
                                                   ticket.conversation_id)
    return ticket_service.conversation_ticket(siblings) or ticket


def _has_queued(ticket) -> bool:
    if ticket.status == "queued":
        return True
    return any(t.status == "queued" for t in ticket_service.conversation_tickets(
        get_state().factory, current_user.id, ticket.conversation_id))


def _render_ticket(ticket, reply_form=None, feedback_form=None, status=200, extra_lines=()):
    from frontend.filters import money

    state = get_state()
    if reply_form is None:
        reply_form = ReplyForm(formdata=None, request_key=_fresh_key())
    escalation = escalations.customer_notice(state.factory, ticket.id)
    offer = offers.open_offer(state.factory, current_user.id, ticket)
    person_has_it = bool(escalation and escalation.status == "with_agent")
    convo = conversation.build(state.factory, ticket, offer is not None, person_has_it)
    for line in convo.lines:
        if line.role in ("assistant", "agent"):
            line.text, line.cite = help_centre.split_citation(state.settings.policies_dir,
                                                              line.text)
    if extra_lines:  # a greeting answered in place is now the latest answer
        for line in convo.lines:
            line.latest_answer = False
    if convo.lines:
        _mark_seen(f"c{ticket.conversation_id}" if ticket.conversation_id else f"t{ticket.id}",
                   _last_message_id(ticket))
    offer_step = ""
    if offer is not None:
        offer_step = OFFER_STEPS.get(offer.action, "Doing it").format(
            amount=money(offer.amount_cents))
        if offer.needs_approval:
            offer_step = "Sending it to a person on our team for approval"
    return render_template(
        "tickets/detail.html", ticket=ticket, convo=convo, escalation=escalation,
        offer=offer, offer_form=OfferForm(formdata=None), offer_step=offer_step,
        sources=[] if any(line.cite for line in convo.lines) else _sources(ticket),
        extra_lines=list(extra_lines),
        talk_to_person=conversation.TALK_TO_A_PERSON, rating_labels=RATING_LABELS,
        reply_form=reply_form, feedback_form=feedback_form or FeedbackForm(formdata=None),
    ), status


def _last_message_id(ticket) -> int:
    messages = ticket_service.transcript(get_state().factory, ticket.conversation_id)
    return messages[-1].id if messages else 0


@bp.route("/<int:ticket_id>")
@login_required
def show(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    if _has_queued(ticket):
        _retry_my_queue()
        ticket = _own_ticket_or_404(ticket_id)
    latest = _conversation_of(ticket)
    if latest.id != ticket.id:
        return _to_ticket(latest.id)
    return _render_ticket(ticket)


@bp.route("/<int:ticket_id>/reply", methods=["POST"])
@login_required
def reply(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    form = ReplyForm()
    if not ticket.conversation_id:
        flash("This request hasn't been processed yet, so it can't take a reply. "
              "Please start a new request instead.", "warning")
        return _to_ticket(ticket.id)
    if form.validate_on_submit() and small_talk.is_small_talk(form.message.data) and \
            _nothing_open(ticket):
        return _render_ticket(ticket, extra_lines=_small_talk_lines(form.message.data,
                                                                    ticket.status))
    if form.validate_on_submit():
        try:
            result = support.submit(get_state(), current_user.id, form.message.data,
                                    conversation_id=ticket.conversation_id,
                                    request_key=form.request_key.data or None)
        except support.Refused as exc:
            flash(f"We couldn't take that reply: {exc.message}", "danger")
            form.request_key.data = _fresh_key()
        else:
            return _after_submit(result, ticket.id)
    return _render_ticket(ticket, reply_form=form, status=400)


def _nothing_open(ticket) -> bool:
    """No question, offer or person waiting on the customer: a bare "thanks" needs no ticket."""
    return (ticket.result_status not in conversation.OPEN_QUESTION
            and ticket.status not in ("escalated", "with_agent", "queued"))


@bp.route("/<int:ticket_id>/feedback", methods=["POST"])
@login_required
def feedback(ticket_id: int):
    ticket = _own_ticket_or_404(ticket_id)
    form = FeedbackForm()
    if ticket.status not in ticket_service.SOLVED or not _nothing_open(ticket):
        flash("You can rate this conversation once it is finished.", "warning")
        return _to_ticket(ticket.id)
    if not form.validate_on_submit():
        return _render_ticket(ticket, feedback_form=form, status=400)
    satisfied = form.is_satisfied
    try:
        get_state().api.feedback(ticket.id, user_id=current_user.id, satisfied=satisfied,
                                 rating=int(form.rating.data),
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
        flash("Sorry we didn't get this right. We've passed your case to a person on our team, "
              "who will follow up with you here.", "info")
    return _to_ticket(ticket.id)


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
        if not answer.get("response"):
            flash("Done.", category if yes else "info")
    return _to_ticket(ticket_id)


@bp.route("/<int:ticket_id>/offers/<proposal_id>/confirm", methods=["POST"])
@login_required
def confirm_offer(ticket_id: int, proposal_id: str):
    return _answer_offer(ticket_id, proposal_id, yes=True)


@bp.route("/<int:ticket_id>/offers/<proposal_id>/decline", methods=["POST"])
@login_required
def decline_offer(ticket_id: int, proposal_id: str):
    return _answer_offer(ticket_id, proposal_id, yes=False)
