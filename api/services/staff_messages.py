"""What the customer hears from a person: a message in their conversation (role `agent`, with
the staff member's first name) and, for replies, decisions and resolutions, the same words by
e-mail through the outbox — both written in the caller's transaction, so the customer is told
exactly when the change commits and never about one that rolled back.

Staff text is PII-redacted before it is stored, like customers' (SPEC: nothing holds it raw).
"""

from __future__ import annotations

from email.utils import parseaddr

from sqlalchemy.orm import Session

from audit.redact import redact
from config import Settings
from db import outbox
from db.models import Conversation, EscalationCase, Message, Ticket, User, utcnow

SUBJECTS = {
    "reply": "{first} replied to your request #{ticket}",
    "decision": "A decision on your request #{ticket}",
    "resolved": "Your request #{ticket} is resolved",
}


def first_name(user: User | None) -> str:
    parts = (user.name if user else "").split()
    return parts[0] if parts else "Our team"


def mail_domain(settings: Settings) -> str:
    address = parseaddr(settings.smtp_from)[1]
    return address.rsplit("@", 1)[1] if "@" in address else "supportops.invalid"


def clean(text: str) -> str:
    return redact(text.strip())


def post(session: Session, ticket: Ticket | None, staff: User, text: str) -> Message | None:
    """A person's message in the ticket's conversation (the customer's thread). None when
    there is no conversation to post in: the customer deleted it (before a case was opened
    about it, or before deleting was refused while one is open); the e-mail and the ticket
    still carry the words."""
    if ticket is None or not ticket.conversation_id:
        return None
    if session.get(Conversation, ticket.conversation_id) is None:
        return None
    now = utcnow()
    message = Message(conversation_id=ticket.conversation_id, role="agent", content=text,
                      ticket_id=ticket.id, author_id=staff.id, author_name=first_name(staff),
                      created_at=now)
    session.add(message)
    ticket.updated_at = now
    return message


def _body(customer: User, staff: User, case: EscalationCase, ticket: Ticket | None,
          text: str, settings: Settings) -> str:
    link = (f"{settings.portal_url.rstrip('/')}/tickets/{ticket.id}" if ticket is not None
            else settings.portal_url)
    return (f"Hello {first_name(customer)},\n\n{text}\n\n"
            f"— {first_name(staff)}, SupportOps customer care (case #{case.id})\n\n"
            f"You can read the whole conversation and answer here: {link}\n")


def tell(session: Session, settings: Settings, *, kind: str, case: EscalationCase,
         ticket: Ticket | None, staff: User, text: str) -> Message | None:
    """Post `text` in the conversation and queue it as an e-mail to the customer; the message
    posted, or None when there was no conversation to post in (the e-mail still goes)."""
    message = post(session, ticket, staff, text)
    customer = session.get(User, case.user_id)
    ticket_no = ticket.id if ticket is not None else case.id
    outbox.enqueue(session, user_id=case.user_id, kind=kind, case_id=case.id,
                   ticket_id=ticket.id if ticket is not None else None,
                   subject=SUBJECTS[kind].format(first=first_name(staff), ticket=ticket_no),
                   body=_body(customer, staff, case, ticket, text, settings),
                   domain=mail_domain(settings))
    return message
