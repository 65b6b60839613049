"""The offer (SPEC R11 proposal) a ticket is waiting on, as the portal shows it on a card.

The portal only reads it: Confirm and Not now go to the API, which alone runs tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import Proposal, Ticket, utcnow

WHAT = {"issue_refund": "Refund", "cancel_order": "Cancel the order",
        "create_replacement": "Free replacement"}


@dataclass(frozen=True)
class Offer:
    id: str
    action: str
    title: str
    order_id: str
    amount_cents: int
    items: list[dict]
    summary: str
    needs_approval: bool
    expires_at: datetime

    @property
    def money_goes_to(self) -> str | None:
        return None if self.amount_cents == 0 else "Your original payment method"


def open_offer(factory: sessionmaker[Session], user_id: int, ticket: Ticket) -> Offer | None:
    """The ticket's proposal if it is still open (not confirmed, dropped or expired)."""
    if ticket.result_status != "needs_confirmation":
        return None
    proposal_id = (ticket.result or {}).get("proposal_id")
    if not proposal_id:
        return None
    with transaction(factory) as session:
        p = session.get(Proposal, proposal_id)
        if p is None or p.user_id != user_id or p.state != "proposed" or p.expires_at <= utcnow():
            return None
        return Offer(p.id, p.action, WHAT.get(p.action, p.action), p.order_id, p.amount_cents,
                     list(p.items or []), p.summary, p.needs_approval, p.expires_at)
