"""The business rules (SPEC R1-R10), in one place.

Tools ask the guard; the agent, the model and the API never decide eligibility
themselves. Every denial's reason names the rule that fired, so customers,
staff and the audit trail all see the same explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from db.models import Order, Refund, Replacement, User
from db.money import fmt

REPLACEMENT_REASONS = ("damaged", "defective", "wrong_item")
REASON_WORDS = {"late": "a late delivery", "not_needed": "a change of mind", "other": "that reason"}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


ALLOWED = Verdict(True)


def normalise_order_id(order_id: object) -> str | None:
    """'#1042', ' 1042 ', 'order 1042' -> '1042'. Anything without a usable id -> None."""
    if order_id is None:
        return None
    text = str(order_id).strip()
    text = re.sub(r"(?i)^(order|ord)\s*(no\.?|number|num|#)?\s*", "", text).lstrip("#").strip()
    if not text or len(text) > 40 or not re.fullmatch(r"[A-Za-z0-9\-_]+", text):
        return None
    return text


def own_order(session: Session, user_id: int, order_id: object, *, lock: bool = False) -> Order | None:
    """R1: the order only if it belongs to the acting user; otherwise None, same as missing."""
    oid = normalise_order_id(order_id)
    if oid is None:
        return None
    query = select(Order).where(Order.id == oid, Order.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def lock_user(session: Session, user_id: int) -> User | None:
    """Serialise actions per user: a row lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds
    the database write lock, and there this is a plain read."""
    return session.scalars(select(User).where(User.id == user_id).with_for_update()).first()


def days_since(moment: datetime, now: datetime) -> int:
    """Calendar days in UTC: delivered on the 1st, asked on the 31st = 30 days."""
    return (now.date() - moment.date()).days


def delivered_on(order: Order) -> datetime | None:
    """The delivery date the windows count from. Data without one (an imported delivered order
    with no delivered_at) falls back to the latest date we do know, rather than to 'never'."""
    if order.status != "delivered":
        return None
    return order.delivered_at or order.shipped_at or order.ordered_at


def confidence_ok(confidence: float, settings: Settings) -> Verdict:
    if confidence < settings.min_action_confidence:
        return Verdict(False, (
            "R10 confidence: I'm not sure enough what you'd like me to do, so I haven't changed "
            "anything. Please tell me the action (refund, cancel, replacement) and the order."))
    return ALLOWED


def refunded(session: Session, order: Order) -> Refund | None:
    return session.scalars(select(Refund).where(Refund.order_id == order.id)).first()


def replaced(session: Session, order: Order) -> Replacement | None:
    return session.scalars(
        select(Replacement).where(Replacement.original_order_id == order.id)).first()


def refund_eligibility(session: Session, order: Order, now: datetime, settings: Settings) -> Verdict:
    """R2 and R8 (not the fraud or high-value limits, which escalate rather than deny)."""
    if refunded(session, order):
        return Verdict(False, f"R8 once only: order #{order.id} has already been refunded.")
    if replaced(session, order):
        return Verdict(False, f"R2 refund: order #{order.id} has already been replaced, "
                              "so it can't also be refunded.")
    if order.replacement_for is not None or order.total_cents == 0:
        return Verdict(False, f"R2 refund: order #{order.id} was a free replacement "
                              f"({fmt(order.total_cents)}), so there is nothing to refund. If it "
                              "has a problem too, ask for a person and we'll sort it out.")
    if order.status != "delivered" or delivered_on(order) is None:
        hint = {"pending": "it hasn't shipped yet, so you can cancel it instead",
                "processing": "it hasn't shipped yet, so you can cancel it instead",
                "shipped": "it is still on its way; once it's delivered you can request a refund",
                "cancelled": "it was cancelled"}.get(order.status, "")
        return Verdict(False, f"R2 refund: only delivered orders can be refunded; order #{order.id} "
                              f"is {order.status}" + (f" ({hint})." if hint else "."))
    age = days_since(delivered_on(order), now)
    if age > settings.refund_window_days:
        return Verdict(False, f"R2 refund window: order #{order.id} was delivered {age} days ago; "
                              f"refunds are allowed within {settings.refund_window_days} days of "
                              "delivery.")
    return ALLOWED


def refunds_in_window(session: Session, user_id: int, now: datetime, settings: Settings) -> int:
    since = now - timedelta(days=settings.fraud_window_days)
    return session.scalar(
        select(func.count(Refund.id)).where(
            Refund.user_id == user_id, Refund.kind == "refund", Refund.created_at > since)) or 0


def fraud_limit(session: Session, user_id: int, now: datetime, settings: Settings) -> Verdict:
    """R2b. Call only with the user locked (lock_user), or the count can race."""
    count = refunds_in_window(session, user_id, now, settings)
    if count >= settings.max_refunds_per_window:
        return Verdict(False, (
            f"R2b fraud limit: you have already received {count} refunds in the last "
            f"{settings.fraud_window_days} days (the limit is {settings.max_refunds_per_window}), "
            "so this request has been sent to our fraud-review team."))
    return ALLOWED


def high_value(order: Order, settings: Settings) -> Verdict:
    """R2a: above the automatic limit a human approves the refund."""
    if order.total_cents > settings.auto_refund_limit_cents:
        return Verdict(False, (
            f"R2a high value: refunds above {fmt(settings.auto_refund_limit_cents)} need a "
            f"person's approval; order #{order.id} ({fmt(order.total_cents)}) has been passed to "
            "a specialist."))
    return ALLOWED


def cancel_eligibility(order: Order, settings: Settings) -> Verdict:
    """R3. A free replacement is not cancelled by the agent: cancelling it would leave the
    customer with neither the item nor a refund (the original stays marked as replaced)."""
    if order.status in ("pending", "processing") and order.replacement_for is not None:
        return Verdict(False, f"R3 cancel: order #{order.id} is the free replacement for order "
                              f"#{order.replacement_for}; there is nothing to refund. If you no "
                              "longer need it, ask for a person and we'll sort it out.")
    if order.status in ("pending", "processing"):
        return ALLOWED
    if order.status == "cancelled":
        return Verdict(False, f"R3 cancel: order #{order.id} is already cancelled; nothing changed.")
    if order.status == "shipped":
        return Verdict(False, (
            f"R3 cancel: order #{order.id} has already shipped, so it can't be cancelled. Once "
            f"it's delivered you can ask for a refund within {settings.refund_window_days} days "
            "of delivery instead."))
    return Verdict(False, (
        f"R3 cancel: order #{order.id} has already been delivered, so it can't be cancelled. "
        f"You can ask for a refund instead, within {settings.refund_window_days} days of "
        "delivery."))


def replacement_eligibility(session: Session, order: Order, reason: str | None, now: datetime,
                            settings: Settings) -> Verdict:
    """R4 (the reason is checked separately: a missing reason is a question, not a denial)."""
    if replaced(session, order):
        return Verdict(False, f"R4 replacement: order #{order.id} has already been replaced once.")
    if refunded(session, order):
        return Verdict(False, f"R4 replacement: order #{order.id} has been refunded, so it can't "
                              "be replaced.")
    if order.status != "delivered" or delivered_on(order) is None:
        return Verdict(False, f"R4 replacement: only delivered orders can be replaced; order "
                              f"#{order.id} is {order.status}.")
    age = days_since(delivered_on(order), now)
    if age > settings.replacement_window_days:
        return Verdict(False, f"R4 replacement window: order #{order.id} was delivered {age} days "
                              f"ago; replacements are possible within "
                              f"{settings.replacement_window_days} days of delivery.")
    if reason is not None and reason not in REPLACEMENT_REASONS:
        return Verdict(False, ("R4 replacement: replacements are for damaged, defective or wrong "
                               f"items, not for {REASON_WORDS.get(reason, 'that reason')}. A "
                               "refund may be possible instead."))
    return ALLOWED


def qualifies(session: Session, order: Order, purpose: str, now: datetime,
              settings: Settings) -> bool:
    """R7: does this order qualify for the action, so it can be picked without asking?"""
    if purpose == "refund":
        return refund_eligibility(session, order, now, settings).ok
    if purpose == "cancel":
        return cancel_eligibility(order, settings).ok
    if purpose == "replacement":
        return replacement_eligibility(session, order, None, now, settings).ok
    return True  # status: any own order (R5)


def escalation_priority(kind: str, frustrated: bool = False) -> str:
    """R6: fraud, high value and very frustrated customers go to the front of the queue."""
    return "high" if frustrated or kind in ("fraud", "high_value", "frustration") else "normal"
