"""The numbers on the staff dashboard, straight from the tables."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.models import EscalationCase, Refund, Ticket


@dataclass
class Dashboard:
    tickets_total: int
    by_status: dict[str, int]
    by_intent: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    rated: int
    satisfied: int
    average_rating: float | None
    refunds_count: int
    refunds_total_cents: int
    cancellations_count: int
    escalations_open: int
    escalations_total: int
    escalations_open_high: int

    @property
    def csat(self) -> float | None:
        """Share of satisfied customers among tickets that were rated."""
        return self.satisfied / self.rated if self.rated else None


def _grouped(session: Session, column, *where) -> list[tuple[str, int]]:
    rows = session.execute(select(column, func.count()).where(column.is_not(None), *where)
                           .group_by(column))
    return sorted(((str(k), int(n)) for k, n in rows), key=lambda kv: (-kv[1], kv[0]))


def _count(session: Session, model, *where) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def build(factory: sessionmaker[Session]) -> Dashboard:
    with transaction(factory) as session:
        refunds = session.execute(select(func.count(), func.coalesce(func.sum(Refund.amount_cents), 0))
                                  .where(Refund.kind == "refund")).one()
        return Dashboard(
            tickets_total=_count(session, Ticket),
            by_status=dict(_grouped(session, Ticket.status)),
            by_intent=_grouped(session, Ticket.intent),
            by_outcome=_grouped(session, Ticket.result_status, Ticket.status != "queued"),
            rated=_count(session, Ticket, Ticket.satisfied.is_not(None)),
            satisfied=_count(session, Ticket, Ticket.satisfied.is_(True)),
            average_rating=session.scalar(select(func.avg(Ticket.rating))
                                          .where(Ticket.rating.is_not(None))),
            refunds_count=int(refunds[0]), refunds_total_cents=int(refunds[1]),
            cancellations_count=_count(session, Refund, Refund.kind == "cancellation"),
            escalations_open=_count(session, EscalationCase, EscalationCase.status == "open"),
            escalations_total=_count(session, EscalationCase),
            escalations_open_high=_count(session, EscalationCase, EscalationCase.status == "open",
                                         EscalationCase.priority == "high"),
        )
