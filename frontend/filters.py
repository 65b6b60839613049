"""Template filters: money, dates, and the words and colours of every status badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from markupsafe import Markup, escape

from db.money import fmt

ORDER_BADGES = {"pending": "secondary", "processing": "info", "shipped": "primary",
                "delivered": "success", "cancelled": "dark"}
TICKET_BADGES = {"open": "info", "awaiting_customer": "info", "resolved": "success",
                 "escalated": "warning", "with_agent": "warning", "closed": "secondary",
                 "queued": "light"}
OUTCOME_BADGES = {"success": "success", "denied": "danger", "needs_info": "info",
                  "needs_confirmation": "primary", "escalated": "warning", "error": "danger",
                  "with_agent": "warning"}
CASE_BADGES = {"open": "warning", "with_agent": "info", "resolved": "success",
               "closed": "secondary"}
PRIORITY_BADGES = {"high": "danger", "normal": "secondary"}
BADGE_SETS = {"order": ORDER_BADGES, "ticket": TICKET_BADGES, "outcome": OUTCOME_BADGES,
              "case": CASE_BADGES, "priority": PRIORITY_BADGES}

LABELS = {
    # actions
    "issue_refund": "Refund", "cancel_order": "Cancellation",
    "create_replacement": "Replacement", "get_order_status": "Order status",
    "escalate_case": "Hand-off to a person", "none": "No action",
    # outcomes
    "success": "Done", "denied": "Not allowed", "needs_info": "Needs more information",
    "needs_confirmation": "Waiting for your OK", "escalated": "Escalated", "error": "Error",
    "with_agent": "With our team",
    # intents
    "refund": "Refund", "cancel": "Cancellation", "replacement": "Replacement",
    "status": "Order status", "escalate": "Talk to a person",
    "policy_question": "Policy question", "other": "Other",
    # ticket statuses
    "open": "Open", "resolved": "Resolved", "closed": "Closed", "queued": "Queued",
    "awaiting_customer": "Waiting for you",
}
RULE_PREFIX = re.compile(r"^R\d+[a-z]? [\w\- ]+?: ")


def money(cents: int | None) -> str:
    return "—" if cents is None else fmt(int(cents))


def dollars(amount) -> str:
    """API amounts are dollars (SPEC); show them like the rest of the portal."""
    try:
        return fmt(round(float(amount) * 100))
    except (TypeError, ValueError):
        return str(amount)


# One way to write a date everywhere in the portal: "26 Nov 2026" (day, short month, year; no
# day/month order to misread), "26 Nov 2026, 14:05 UTC" with a time. static/portal.js writes
# local times the same way.
def date(value: datetime | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "—"


def datetime_utc(value: datetime | None) -> str:
    return f"{date(value)}, {value:%H:%M} UTC" if value else "—"


def iso_datetime(value: datetime | None) -> str:
    """A stored (naive UTC) time for <time datetime>; the page's script shows it locally."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0).isoformat() + "Z"


def iso_utc(value: str | None) -> str:
    """An ISO timestamp string (audit records) shown like every other time in the portal."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value or "—")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{date(moment)}, {moment:%H:%M:%S} UTC"


def label(value: str | None) -> str:
    if not value:
        return "—"
    return LABELS.get(value, value.replace("_", " ").capitalize())


def known_label(value) -> str:
    """A friendly word for a value we know (an action, an outcome); anything else as it is."""
    return LABELS.get(value, str(value)) if isinstance(value, str) else str(value)


def badge(value: str | None, kind: str) -> Markup:
    if not value:
        return Markup("")
    colour = BADGE_SETS.get(kind, {}).get(value, "secondary")
    text_class = " text-dark border" if colour in ("light", "warning", "info") else ""
    return Markup(f'<span class="badge text-bg-{colour}{text_class} status-badge" '
                  f'data-status="{escape(value)}">{escape(label(value))}</span>')


def plain(reason: str | None) -> str:
    """A reason without its rule code ("R2 refund window: …"): customers read words, not codes."""
    text = RULE_PREFIX.sub("", reason or "").strip()
    return text[:1].upper() + text[1:]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


SURE_FROM = 0.9


def certainty(confidence: float | None) -> str:
    """How sure the assistant was of what it understood, in words, never a bare number (SPEC
    R10): below MIN_ACTION_CONFIDENCE it would not act, so that reads "unsure"."""
    if confidence is None:
        return "not recorded"
    from frontend.state import get_state

    if confidence >= SURE_FROM:
        return "sure"
    if confidence >= get_state().settings.min_action_confidence:
        return "fairly sure"
    return "unsure"


_CONFIDENCE_NUMBER = re.compile(r"\(confidence (\d(?:\.\d{1,4})?)\)")


def confidence_in_words(text: str | None) -> str:
    """Text written by the assistant for staff ("Understood: refund (confidence 0.98).") with
    the score put in words, as on the rest of the page ("(sure)")."""
    return _CONFIDENCE_NUMBER.sub(lambda m: f"({certainty(float(m[1]))})", text or "")


def install(app: Flask) -> None:
    for name, func in (("money", money), ("dollars", dollars), ("date", date),
                       ("datetime", datetime_utc), ("iso_utc", iso_utc), ("iso_datetime", iso_datetime), ("label", label), ("known_label", known_label), ("badge", badge),
                       ("percent", percent), ("plain", plain), ("certainty", certainty),
                       ("confidence_in_words", confidence_in_words)):
        app.add_template_filter(func, name)
