"""When a person owes the customer a first answer (escalation policy, "Response times").

High-priority cases: within `FIRST_RESPONSE_HIGH_HOURS` (4) business hours; normal ones:
within `FIRST_RESPONSE_NORMAL_DAYS` (1) business day. Both are counted in the customer care
team's opening hours (`BUSINESS_HOURS`, in `BUSINESS_TIMEZONE`, skipping
`BUSINESS_CLOSED_DATES`), because that is what the policy promises the customer: a case
escalated on Saturday evening is due on Monday, not at 1 am on Sunday.

A business day is "the same time on the next open day": escalated Tuesday 14:00, due
Wednesday 14:00. If the clock starts while the team is closed it starts at the next opening,
and a due time past that day's closing is brought forward to the closing time.

Times in and out are naive UTC, like every time in the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config import Settings

MAX_DAYS_AHEAD = 400  # a schedule with no open day in a year is a configuration mistake


class _Calendar:
    def __init__(self, settings: Settings):
        self.zone = ZoneInfo(settings.business_timezone)
        self.week = settings.opening_hours
        self.closed = set(settings.business_closed_dates)

    def local(self, moment_utc: datetime) -> datetime:
        return moment_utc.replace(tzinfo=UTC).astimezone(self.zone)

    @staticmethod
    def utc(moment_local: datetime) -> datetime:
        return moment_local.astimezone(UTC).replace(tzinfo=None)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.closed or day.weekday() not in self.week:
            return None
        opens, closes = self.week[day.weekday()]
        return (datetime.combine(day, opens, tzinfo=self.zone),
                datetime.combine(day, closes, tzinfo=self.zone))

    def next_open_moment(self, moment: datetime) -> datetime:
        """`moment` itself when the team is working then, else the next opening."""
        day = moment.date()
        for _ in range(MAX_DAYS_AHEAD):
            window = self.window(day)
            if window and moment < window[1]:
                return max(moment, window[0])
            day += timedelta(days=1)
            moment = datetime.combine(day, time(0), tzinfo=self.zone)
        raise ValueError("business hours: no opening in the next year")


def add_business_hours(start: datetime, hours: float, settings: Settings) -> datetime:
    cal = _Calendar(settings)
    remaining = timedelta(hours=hours)
    moment = cal.local(start)
    for _ in range(MAX_DAYS_AHEAD * 2):
        moment = cal.next_open_moment(moment)
        closes = cal.window(moment.date())[1]
        if moment + remaining <= closes:
            return cal.utc(moment + remaining)
        remaining -= closes - moment
        moment = closes
    raise ValueError("business hours: the due time is more than a year away")


def add_business_days(start: datetime, days: int, settings: Settings) -> datetime:
    cal = _Calendar(settings)
    begin = cal.next_open_moment(cal.local(start))
    day, left = begin.date(), days
    for _ in range(MAX_DAYS_AHEAD):
        day += timedelta(days=1)
        if cal.window(day):
            left -= 1
            if left == 0:
                opens, closes = cal.window(day)
                due = datetime.combine(day, begin.timetz().replace(tzinfo=None), tzinfo=cal.zone)
                return cal.utc(min(max(due, opens), closes))
    raise ValueError("business hours: the due time is more than a year away")


def first_response_due(opened_at: datetime, priority: str, settings: Settings) -> datetime:
    """The time the customer is promised a first answer from a person."""
    if priority == "high":
        return add_business_hours(opened_at, settings.first_response_high_hours, settings)
    return add_business_days(opened_at, settings.first_response_normal_days, settings)


def promise_text(due: datetime | None) -> str:
    """The sentence the customer reads (UTC, like every time the portal shows)."""
    if due is None:
        return ""
    return f" A person will reply by {due:%a %-d %b, %H:%M} UTC at the latest."
