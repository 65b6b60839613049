"""The numbers on the staff dashboard, straight from the tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db import case_lifecycle
from db.engine import transaction
from db.models import EscalationCase, OutboxMail, Refund, Ticket, utcnow


@dataclass(frozen=True)
class Csat:
    """Satisfied among rated tickets, for one group (an intent, a brain, person or not)."""

    group: str
    satisfied: int
    rated: int

    @property
    def share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


@dataclass
class TeamNumbers:
    """How the people in the loop are doing (issue 10): containment, first answers, decisions,
    satisfaction by intent, by brain and by whether a person was involved, and mail waiting."""

    processed: int = 0
    contained: int = 0
    first_responses: list[float] = field(default_factory=list)  # hours, per answered case
    overdue: int = 0
    approvals: int = 0
    denials: int = 0
    csat_by_intent: list[Csat] = field(default_factory=list)
    csat_by_mode: list[Csat] = field(default_factory=list)
    csat_by_person: list[Csat] = field(default_factory=list)
    mail_waiting: int = 0
    mail_oldest: datetime | None = None

    @property
    def containment(self) -> float | None:
        """Share of answered tickets resolved without a person."""
        return self.contained / self.processed if self.processed else None

    @property
    def first_response_median_hours(self) -> float | None:
        return median(self.first_responses) if self.first_responses else None


def _csat(rows: list[tuple[str, bool]]) -> list[Csat]:
    groups: dict[str, list[bool]] = {}
    for key, satisfied in rows:
        groups.setdefault(key, []).append(satisfied)
    return sorted((Csat(k, sum(v), len(v)) for k, v in groups.items()),
                  key=lambda c: (-c.rated, c.group))


def _person_before_rating(session: Session) -> set[int]:
    """Tickets a person was involved in before the customer rated them. The case an unhappy
    rating opens (kind `unsatisfied`) comes after the rating, and so does any case opened after
    that one: neither makes the rating one given "with a person"."""
    cases = session.execute(select(EscalationCase.ticket_id, EscalationCase.kind,
                                   EscalationCase.created_at)
                            .where(EscalationCase.ticket_id.is_not(None))).all()
    rated_at = {}
    for ticket_id, kind, created in cases:
        if kind == "unsatisfied":
            rated_at[ticket_id] = min(created, rated_at.get(ticket_id, created))
    return {ticket_id for ticket_id, kind, created in cases if kind != "unsatisfied"
            and (ticket_id not in rated_at or created < rated_at[ticket_id])}


def team_numbers(session: Session, now: datetime) -> TeamNumbers:
    with_person = {t for (t,) in session.execute(
        select(EscalationCase.ticket_id).where(EscalationCase.ticket_id.is_not(None)))}
    tickets = session.execute(select(Ticket.id, Ticket.status, Ticket.intent, Ticket.mode,
                                     Ticket.satisfied).where(Ticket.status != "queued")).all()
    numbers = TeamNumbers(processed=len(tickets), contained=sum(
        1 for t in tickets if t.status in ("resolved", "closed") and t.id not in with_person))
    rated = [t for t in tickets if t.satisfied is not None]
    numbers.csat_by_intent = _csat([(t.intent or "other", t.satisfied) for t in rated])
    numbers.csat_by_mode = _csat([(t.mode or "offline", t.satisfied) for t in rated])
    person_before = _person_before_rating(session)
    numbers.csat_by_person = _csat([("with a person" if t.id in person_before else
                                     "assistant only", t.satisfied) for t in rated])
    for case in session.scalars(select(EscalationCase)):
        if case.first_response_at is not None:
            numbers.first_responses.append(
                (case.first_response_at - case.created_at).total_seconds() / 3600)
        numbers.overdue += case_lifecycle.overdue(case, now)
        numbers.approvals += case.decision == "approved"
        numbers.denials += case.decision == "denied"
    waiting, oldest = session.execute(select(func.count(), func.min(OutboxMail.created_at))
                                      .where(OutboxMail.sent_at.is_(None))).one()
    numbers.mail_waiting, numbers.mail_oldest = int(waiting or 0), oldest
    return numbers


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
    team: TeamNumbers = field(default_factory=TeamNumbers)

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
            escalations_open=_count(session, EscalationCase,
                                    EscalationCase.status.in_(case_lifecycle.ACTIVE)),
            escalations_total=_count(session, EscalationCase),
            escalations_open_high=_count(session, EscalationCase,
                                         EscalationCase.status.in_(case_lifecycle.ACTIVE),
                                         EscalationCase.priority == "high"),
            team=team_numbers(session, utcnow()),
        )
