"""First-response due times in business hours (escalation policy "Response times"), and the
policy's promises equal the settings the code counts with."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from config import ROOT, Settings
from tests.api import case_helpers
from tests.api.case_helpers import act, cases, high_value_case, ok
from tools.first_response import add_business_days, add_business_hours, first_response_due

api, staff_db = case_helpers.api, case_helpers.staff_db  # fixtures

SETTINGS = Settings(_env_file=None)  # New York hours: Mon-Fri 08-20, Sat 09-17


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("opened,high,normal", [
    # Tuesday 10:00 New York (EST = UTC-5): +4 h the same day; next day same time
    ("2026-11-10 15:00", "2026-11-10 19:00", "2026-11-11 15:00"),
    # Tuesday 18:30 New York: 1.5 h today, 2.5 h from Wednesday's opening
    ("2026-11-10 23:30", "2026-11-11 15:30", "2026-11-11 23:30"),
    # Friday 18:00 New York: Saturday is open 09-17; a day later is past Saturday's closing
    ("2026-11-13 23:00", "2026-11-14 16:00", "2026-11-14 22:00"),
    # Saturday 22:00 New York (closed) and all of Sunday: the clock starts Monday 08:00
    ("2026-11-15 03:00", "2026-11-16 17:00", "2026-11-17 13:00"),
    # the night the clocks go back (1 Nov 2026): Monday 08:00 EST is 13:00 UTC
    ("2026-11-01 05:00", "2026-11-02 17:00", "2026-11-03 13:00"),
    # summer time (EDT = UTC-4): Wednesday 09:00 New York
    ("2026-07-15 13:00", "2026-07-15 17:00", "2026-07-16 13:00"),
])
def test_due_times_count_opening_hours_only(opened, high, normal):
    assert first_response_due(utc(opened), "high", SETTINGS) == utc(high)
    assert first_response_due(utc(opened), "normal", SETTINGS) == utc(normal)


def test_closed_dates_are_skipped():
    closed = SETTINGS.model_copy(update={"business_closed_dates": [date(2026, 11, 26)]})
    # Wednesday 25 Nov 19:00 New York; Thanksgiving closed: 1 h Wednesday, 3 h Friday
    assert add_business_hours(utc("2026-11-26 00:00"), 4, closed) == utc("2026-11-27 16:00")
    assert add_business_days(utc("2026-11-26 00:00"), 1, closed) == utc("2026-11-28 00:00")


def test_business_hours_are_a_checked_setting():
    custom = Settings(_env_file=None, business_timezone="UTC", business_hours="Mon-Fri 09:00-17:00")
    assert add_business_hours(utc("2026-11-13 16:00"), 4, custom) == utc("2026-11-16 12:00")
    for bad in ("Mon-Fri 9-17", "Funday 09:00-17:00", "Mon 17:00-09:00", ""):
        with pytest.raises(ValueError):
            Settings(_env_file=None, business_hours=bad)
    with pytest.raises(ValueError):
        Settings(_env_file=None, business_timezone="Mars/Olympus")


def test_the_policy_promises_what_the_settings_count():
    text = (ROOT / "policies" / "escalation_policy.md").read_text(encoding="utf-8")
    high = re.search(r"high-priority cases within (\d+) business hours", text)
    normal = re.search(r"normal-priority cases within (\d+) business days?", text)
    assert high and float(high[1]) == SETTINGS.first_response_high_hours
    assert normal and int(normal[1]) == SETTINGS.first_response_normal_days
    assert "Monday to Friday from 8 am to 8 pm Eastern Time" in text
    assert "Saturday from 9 am to 5 pm Eastern Time" in text
    assert SETTINGS.business_timezone == "America/New_York"
    assert SETTINGS.business_hours == "Mon-Fri 08:00-20:00; Sat 09:00-17:00"


def test_a_case_is_due_by_its_priority_and_the_customer_is_told(api):
    made, case = high_value_case(api)  # high priority
    assert case["priority"] == "high"
    opened = utc(case["created_at"].rstrip("Z"))
    assert case["due_at"] == first_response_due(opened, "high", SETTINGS).isoformat() + "Z"
    assert "A person will reply by" in made["response"]


def test_an_answer_stops_the_clock(api):
    _, case = high_value_case(api)
    view = ok(act(api, case["id"], "reply", message="Looking at it now."))
    assert view["first_response_at"] and view["overdue"] is False
    assert cases(api)[0]["first_response_at"] == view["first_response_at"]
