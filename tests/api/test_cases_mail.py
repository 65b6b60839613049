"""E-mail that cannot be lost: written to the outbox with the staff change, delivered by the
sender to a real SMTP server on loopback (aiosmtpd), retried with backoff while the server is
down, and sent twice only in the crash window — then with the same Message-ID."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from api.services.mail_sender import MailSender
from config import ROOT
from db import outbox as outbox_store
from tests.api import case_helpers
from tests.api.case_helpers import (
    act,
    ask_for_a_person,
    cases,
    ok,
    outbox,
)
from tests.e2e.mailbox import Mailbox

api, staff_db = case_helpers.api, case_helpers.staff_db  # fixtures


@pytest.fixture
def mailbox():
    box = Mailbox().start()
    yield box
    box.stop()


def mail_settings(api_settings, port: int, **extra):
    return api_settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
        "smtp_timeout_seconds": 2.0, "mail_retry_base_seconds": 0.05,
        "mail_retry_max_seconds": 0.4, "mail_poll_seconds": 0.05, **extra})


def _replies(api, n: int) -> int:
    ask_for_a_person(api)
    [case] = cases(api)
    for i in range(n):
        ok(act(api, case["id"], "reply", message=f"Update number {i} on your case"))
    return case["id"]


def test_a_reply_arrives_with_the_right_content(api, staff_db, api_settings, mailbox):
    _replies(api, 1)
    report = MailSender(staff_db.session_factory, mail_settings(api_settings, mailbox.port)
                        ).run_once()
    assert (report.sent, report.failed) == (1, 0)
    [mail] = mailbox.received()
    [row] = outbox(staff_db.session_factory)
    assert mail["To"] == "User 1 <user1@example.com>"
    assert mail["From"] == "SupportOps <support@supportops.example>"
    assert mail["Subject"] == f"Sam replied to your request #{row.ticket_id}"
    assert mail["Message-ID"] == row.message_id and row.message_id.endswith(
        "@supportops.example>")
    body = mail.get_content()
    assert "Hello User," in body and "Update number 0 on your case" in body
    assert f"/tickets/{row.ticket_id}" in body and "Sam" in body
    assert row.sent_at is not None and row.attempts == 1
    assert MailSender(staff_db.session_factory, mail_settings(api_settings, mailbox.port)
                      ).run_once().sent == 0  # sent once, never again


def test_a_server_that_is_down_delays_mail_but_loses_none(api, staff_db, api_settings):
    _replies(api, 3)
    down = Mailbox()  # its port is chosen, but nothing listens there yet
    sender = MailSender(staff_db.session_factory, mail_settings(api_settings, down.port)).start()
    try:
        time.sleep(1.0)
        rows = outbox(staff_db.session_factory)
        assert all(r.sent_at is None for r in rows) and max(r.attempts for r in rows) >= 2
        assert all(r.last_error for r in rows if r.attempts)
        down.start()  # the server comes back: everything waiting arrives
        deadline = time.monotonic() + 20
        while len(down.received()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sender.stop()
        down.stop()
    ids = Counter(m["Message-ID"] for m in down.received())
    assert sorted(ids) == sorted(r.message_id for r in outbox(staff_db.session_factory))
    assert set(ids.values()) == {1}  # none lost, none twice
    assert all(r.sent_at is not None for r in outbox(staff_db.session_factory))


def test_only_a_crash_between_send_and_mark_sent_sends_twice_with_one_message_id(
        api, staff_db, api_settings, mailbox, monkeypatch):
    _replies(api, 2)
    settings = mail_settings(api_settings, mailbox.port)

    class Died(BaseException):
        """The process dying right after the SMTP server accepted the mail."""

    def die(*_args, **_kwargs):
        raise Died()
    monkeypatch.setattr(outbox_store, "mark_sent", die)
    with pytest.raises(Died):
        MailSender(staff_db.session_factory, settings, lease_seconds=0.3).run_once()
    monkeypatch.undo()
    assert len(mailbox.received()) == 1
    MailSender(staff_db.session_factory, settings, lease_seconds=0.3).run_once()
    assert len(mailbox.received()) == 2  # the other mail; the crashed one is still leased
    time.sleep(0.4)  # the dead sender's lease runs out
    MailSender(staff_db.session_factory, settings).run_once()
    ids = Counter(m["Message-ID"] for m in mailbox.received())
    crashed = outbox(staff_db.session_factory)[0]
    assert ids == {crashed.message_id: 2, outbox(staff_db.session_factory)[1].message_id: 1}
    assert all(r.sent_at is not None for r in outbox(staff_db.session_factory))


def test_nothing_is_sent_without_smtp_host(api, staff_db, api_settings, mailbox):
    _replies(api, 1)
    unset = mail_settings(api_settings, mailbox.port, smtp_host=None)
    assert MailSender(staff_db.session_factory, unset).run_once().sent == 0
    assert mailbox.received() == [] and outbox(staff_db.session_factory)[0].sent_at is None


def test_a_refused_change_writes_no_mail(api, staff_db):
    case_id = _replies(api, 0)
    ok(act(api, case_id, "close", note="Withdrawn"))
    assert act(api, case_id, "reply", message="Too late").status_code == 409
    assert act(api, case_id, "resolve", note="x", staff_id=1).status_code == 403
    assert outbox(staff_db.session_factory) == []


@pytest.mark.parametrize("attempts,expected", [(1, 5), (2, 10), (3, 20), (8, 600), (50, 600)])
def test_backoff_doubles_up_to_the_cap(attempts, expected):
    assert outbox_store.backoff_seconds(attempts, 5, 600) == expected


def test_the_sender_command_sends_what_is_due(api, staff_db, api_settings, mailbox):
    _replies(api, 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "OPENAI"))}
    env.update(DATABASE_URL=api_settings.database_url, SMTP_HOST="127.0.0.1",
               SMTP_PORT=str(mailbox.port), SMTP_STARTTLS="false", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "api.services.mail_sender", "--once"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "sent 1" in done.stdout and len(mailbox.received()) == 1
