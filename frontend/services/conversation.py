"""The ticket page as one conversation: the thread, a receipt where something happened, and the
replies a customer can click instead of typing (order cards, a person, follow-ups).

Reads only, from the database the agent writes. Everything shown here is in the customer's
words: receipts are built from the shop's own rows (the refund, the cancelled order, the new
replacement order), never from rule codes, file names, scores or booleans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from db.engine import transaction
from db.models import Message, Order, Refund, Replacement, Ticket, TicketAction

# What the customer can send with one click, by what the assistant could not do.
FOLLOW_UPS = {
    "issue_refund": [("Ask about a replacement instead", "Could I get a replacement instead?"),
                     ("Where is my order?", "Where is my order?")],
    "cancel_order": [("Ask about a refund instead", "Can I get a refund instead?"),
                     ("Where is my order?", "Where is my order?")],
    "create_replacement": [("Ask about a refund instead", "Can I get a refund instead?")],
}
TALK_TO_A_PERSON = "I'd like to talk to a person, please."
OPEN_QUESTION = ("needs_info", "needs_confirmation")


@dataclass
class Line:
    """One message in the thread."""

    role: str  # user | assistant | agent
    text: str
    at: datetime | None
    author: str | None = None
    ticket_id: int | None = None
    receipt: Receipt | None = None
    latest_answer: bool = False
    not_sent: bool = False  # kept while the assistant was unavailable; sent when it is back
    cite: dict | None = None  # the help-centre section this answer is based on (a link)


@dataclass
class Receipt:
    """What happened, in plain words: a title, facts (label, value) and what comes next."""

    kind: str  # refund | cancel | replacement | status | denied | escalated
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    next_step: str | None = None
    tone: str = "success"  # success | info | warning


@dataclass
class OrderCard:
    id: str
    items: str
    status: str
    total_cents: int
    when: datetime | None


@dataclass
class Conversation:
    lines: list[Line]
    order_cards: list[OrderCard]
    follow_ups: list[tuple[str, str]]
    offer_talk_to_person: bool
    can_rate: bool
    rated: Ticket | None
    waiting: bool = False  # the customer has a message kept, not sent yet


def _money(cents: int) -> str:
    from db.money import fmt
    return fmt(cents)


def _items(order: Order) -> str:
    names = [f"{i.qty} × {i.name}" if i.qty > 1 else i.name for i in order.items]
    return ", ".join(names) or "Order"


def _date(value: datetime | None) -> str:
    from frontend.filters import date  # the portal's one date format
    return date(value)


@dataclass
class Acted:
    """One thing done (or refused) on a ticket: a row of its history, or, for a ticket from
    before the history was kept, its headline."""

    action: str | None
    status: str | None
    order_id: str | None
    result: dict
    user_id: int
    at: datetime | None
    response: str | None = None


def _acted(ticket: Ticket, row: TicketAction | None = None) -> Acted:
    if row is None:
        return Acted(ticket.action, ticket.result_status, ticket.order_id, ticket.result or {},
                     ticket.user_id, ticket.updated_at, ticket.response)
    return Acted(row.action, row.status, row.order_id, row.result or {}, ticket.user_id,
                 row.created_at, row.response)


def _receipt(session: Session, acted: Acted) -> Receipt | None:
    status, action, order_id = acted.status, acted.action, acted.order_id
    order = session.get(Order, order_id, options=[selectinload(Order.items)]) if order_id else None
    if order is not None and order.user_id != acted.user_id:
        order = None  # R1: never show anyone else's order
    if status == "success" and order is not None:
        return _success(session, action, order, acted)
    if status == "denied" and action in FOLLOW_UPS:
        what = {"issue_refund": "refund", "cancel_order": "cancel",
                "create_replacement": "replace"}[action]
        title = f"We couldn't {what} order #{order_id}" if order_id else f"We couldn't {what} it"
        return Receipt("denied", title, tone="warning",
                       next_step="You can ask about another option below, or talk to a person.")
    return None


def _refund_row(session: Session, order: Order, acted: Acted, kind: str) -> Refund | None:
    refund_id = acted.result.get("refund_id")
    if isinstance(refund_id, int):
        row = session.get(Refund, refund_id)
        if row is not None and row.order_id == order.id:
            return row
    return session.scalar(select(Refund).where(Refund.order_id == order.id, Refund.kind == kind))


def _success(session: Session, action: str | None, order: Order,
             acted: Acted) -> Receipt | None:
    if action == "issue_refund":
        refund = _refund_row(session, order, acted, "refund")
        if refund is not None:
            cents, when = refund.amount_cents, refund.created_at
        else:  # the refunds row is the truth; the action's own record is the fallback
            try:
                cents = round(float(acted.result["amount"]) * 100)
            except (KeyError, TypeError, ValueError):
                return None
            when = acted.at
        return Receipt("refund", f"Refund of {_money(cents)} sent", [
            ("Order", f"#{order.id} · {_items(order)}"),
            ("Amount", _money(cents)),
            ("Goes to", "Your original payment method"),
            ("When", _date(when))],
            "Refunds usually appear on your statement within 5–10 business days.")
    if action == "cancel_order":
        refund = _refund_row(session, order, acted, "cancellation")
        facts = [("Order", f"#{order.id} · {_items(order)}")]
        if refund is not None:
            facts += [("Refund", _money(refund.amount_cents)),
                      ("Goes to", "Your original payment method"),
                      ("When", _date(refund.created_at))]
        return Receipt("cancel", f"Order #{order.id} is cancelled", facts,
                       "Nothing will ship. Refunds usually appear within 5–10 business days.")
    if action == "create_replacement":
        swap = session.scalar(select(Replacement).where(
            Replacement.original_order_id == order.id))
        if swap is None:
            return None
        return Receipt("replacement", f"Free replacement on its way: order #{swap.new_order_id}", [
            ("For", f"#{order.id} · {_items(order)}"), ("Cost to you", "Nothing"),
            ("When", _date(swap.created_at))],
            "We'll ship the new order as soon as it's packed; you can follow it in My orders.")
    if action == "get_order_status":
        facts = [("Items", _items(order)), ("Status", order.status.capitalize())]
        for label, value in (("Shipped", order.shipped_at), ("Delivered", order.delivered_at)):
            if value:
                facts.append((label, _date(value)))
        if order.carrier or order.tracking_number:
            facts.append(("Tracking", " ".join(x for x in (order.carrier, order.tracking_number)
                                               if x)))
        return Receipt("status", f"Order #{order.id}: {order.status}", facts, tone="info")
    return None


def _attach_receipts(session: Session, lines: list[Line], siblings: dict[int, Ticket]) -> None:
    """Each receipt sits under the message that carried the action out — the assistant's answer
    or a person's decision — and stays there however the conversation goes on. The ticket's
    history says what was done and in which words; the message with those words (of that
    ticket, after the previous action's) gets the receipt."""
    history: dict[int, list[TicketAction]] = {}
    for row in session.scalars(select(TicketAction).where(
            TicketAction.ticket_id.in_(list(siblings))).order_by(TicketAction.id)):
        history.setdefault(row.ticket_id, []).append(row)
    for ticket_id, ticket in siblings.items():
        answers = [i for i, line in enumerate(lines)
                   if line.role in ("assistant", "agent") and line.ticket_id == ticket_id]
        if not answers:
            continue
        if ticket_id not in history:  # from before the history was kept: the headline
            lines[answers[-1]].receipt = _receipt(session, _acted(ticket))
            continue
        after = -1
        for row in history[ticket_id]:
            acted = _acted(ticket, row)
            said = [i for i in answers if i > after and lines[i].text == (row.response or "")]
            if not said:  # words changed on the way (redaction): the first answer after it
                said = [i for i in answers if i > after and lines[i].at and row.created_at
                        and lines[i].at >= row.created_at - timedelta(seconds=2)]
            if not said:
                continue
            after = said[0]
            receipt = _receipt(session, acted)
            if receipt is not None:
                lines[after].receipt = receipt


def _order_cards(session: Session, ticket: Ticket) -> list[OrderCard]:
    """The orders the assistant asked the customer to pick from (its own `choice_ids`)."""
    result = ticket.result or {}
    if ticket.result_status != "needs_info" or not result.get("asking"):
        return []
    ids = [str(i) for i in (result.get("choice_ids") or [])][:8]
    if not ids:
        return []
    orders = {o.id: o for o in session.scalars(
        select(Order).where(Order.id.in_(ids), Order.user_id == ticket.user_id)
        .options(selectinload(Order.items)))}
    return [OrderCard(o.id, _items(o), o.status, o.total_cents,
                      o.delivered_at or o.shipped_at or o.ordered_at)
            for o in (orders.get(i) for i in ids) if o is not None]


def build(factory: sessionmaker[Session], ticket: Ticket, offer_open: bool,
          person_has_it: bool) -> Conversation:
    with transaction(factory) as session:
        siblings = {ticket.id: ticket}
        messages: list[Message] = []
        if ticket.conversation_id:
            siblings.update({t.id: t for t in session.scalars(select(Ticket).where(
                Ticket.user_id == ticket.user_id,
                Ticket.conversation_id == ticket.conversation_id))})
            messages = list(session.scalars(select(Message).where(
                Message.conversation_id == ticket.conversation_id).order_by(Message.id)))
        lines = [Line(m.role, m.content, m.created_at, m.author_name, m.ticket_id)
                 for m in messages]
        if not lines:  # queued, or written before messages were kept: the ticket's own words
            lines = [Line("user", ticket.user_input, ticket.created_at, ticket_id=ticket.id,
                          not_sent=ticket.status == "queued")]
            if ticket.response:
                lines.append(Line("assistant", ticket.response, ticket.updated_at,
                                  ticket_id=ticket.id))
        elif ticket.conversation_id:
            # Replies kept while the assistant was unavailable: in the thread, marked not sent.
            lines += [Line("user", t.user_input, t.created_at, ticket_id=t.id, not_sent=True)
                      for t in sorted(siblings.values(), key=lambda t: t.id)
                      if t.status == "queued" and t.id != ticket.id]
        _attach_receipts(session, lines, siblings)
        answers = [line for line in lines if line.role in ("assistant", "agent")]
        if answers:
            answers[-1].latest_answer = True
        latest = max(siblings.values(), key=lambda t: t.id)
        cards = _order_cards(session, latest) if latest.id == ticket.id else []
    waiting = any(line.not_sent for line in lines)
    rated = next((t for t in siblings.values() if t.satisfied is not None), None)
    open_question = ticket.result_status in OPEN_QUESTION or offer_open
    follow_ups = []
    if ticket.result_status == "denied" and ticket.action in FOLLOW_UPS:
        follow_ups = FOLLOW_UPS[ticket.action]
    return Conversation(
        lines=lines, order_cards=cards, follow_ups=follow_ups,
        offer_talk_to_person=(ticket.status not in ("queued", "escalated", "with_agent")
                              and not person_has_it and bool(ticket.conversation_id)),
        can_rate=(rated is None and ticket.status == "resolved" and not open_question
                  and not waiting),
        rated=rated, waiting=waiting)
