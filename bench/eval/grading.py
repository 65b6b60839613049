"""Grading a conversation on what happened, not on its wording.

Three kinds of check, all pure functions over plain data so tests can feed them synthetic
inputs (tests/eval/test_harness.py):

- the database end state: refunds, cancellations, replacements and escalation cases made
  during the case, compared exactly with the case's `end` (anything not listed that moved
  money is a *wrong money movement*), and the audit record behind each change;
- each turn's `expect`: fields of the response JSON and facts in the reply;
- reply hygiene on every reply: no percentages, rule codes, file names or "confidence",
  no claim of an action the database does not show, no self-contradiction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

# --- database snapshots ------------------------------------------------------------------


@dataclass
class Snapshot:
    """Everything an action can change, keyed for diffing. Money in cents."""

    orders: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # id -> user, status, total
    refunds: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # order -> kind, cents, user
    replacements: dict[str, tuple[str, int]] = field(default_factory=dict)  # original -> new, user
    cases: dict[int, dict] = field(default_factory=dict)  # id -> user_id, order_id, priority, status


def snapshot(session_factory) -> Snapshot:
    from db.engine import transaction
    from db.models import EscalationCase, Order, Refund, Replacement

    with transaction(session_factory) as s:
        return Snapshot(
            orders={o.id: (o.user_id, o.status, o.total_cents) for o in s.scalars(select(Order))},
            refunds={r.order_id: (r.kind, r.amount_cents, r.user_id)
                     for r in s.scalars(select(Refund))},
            replacements={r.original_order_id: (r.new_order_id, r.user_id)
                          for r in s.scalars(select(Replacement))},
            cases={c.id: {"user_id": c.user_id, "order_id": c.order_id, "priority": c.priority,
                          "status": c.status, "kind": c.kind}
                   for c in s.scalars(select(EscalationCase))})


@dataclass
class Changes:
    refunds: list[tuple[str, str, int, int]] = field(default_factory=list)  # order, kind, cents, user
    status: dict[str, tuple[str, str]] = field(default_factory=dict)  # order -> (before, after)
    new_orders: list[str] = field(default_factory=list)
    replacements: list[tuple[str, str, int]] = field(default_factory=list)  # original, new, user
    new_cases: list[dict] = field(default_factory=list)

    @property
    def refunded(self) -> set[str]:
        return {r[0] for r in self.refunds if r[1] == "refund"}

    @property
    def cancelled(self) -> set[str]:
        return {oid for oid, (_, new) in self.status.items() if new == "cancelled"}

    @property
    def replaced(self) -> set[str]:
        return {r[0] for r in self.replacements}

    @property
    def anything(self) -> bool:
        return bool(self.refunds or self.status or self.new_orders or self.replacements
                    or self.new_cases)


def diff(before: Snapshot, after: Snapshot) -> Changes:
    out = Changes()
    for oid, (kind, cents, user) in after.refunds.items():
        if oid not in before.refunds:
            out.refunds.append((oid, kind, cents, user))
    for oid, (_, status, _) in after.orders.items():
        if oid not in before.orders:
            out.new_orders.append(oid)
        elif before.orders[oid][1] != status:
            out.status[oid] = (before.orders[oid][1], status)
    for oid, (new, user) in after.replacements.items():
        if oid not in before.replacements:
            out.replacements.append((oid, new, user))
    out.new_cases = [dict(case, id=cid) for cid, case in after.cases.items()
                     if cid not in before.cases]
    return out


# --- the end state -------------------------------------------------------------------------


@dataclass
class EndGrade:
    failures: list[str] = field(default_factory=list)
    wrong_money: list[str] = field(default_factory=list)  # each one is also a failure


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def grade_end(end: dict | None, changes: Changes, before: Snapshot, user_id: int) -> EndGrade:
    """Compare what changed with the case's `end`. Omitted refunded/cancelled/replaced mean
    "none"; omitted `cases` is not checked."""
    end = end or {}
    grade = EndGrade()

    def wrong(message: str) -> None:
        grade.wrong_money.append(message)
        grade.failures.append("wrong money movement: " + message)

    def owner_total(oid: str) -> tuple[int | None, int | None]:
        row = before.orders.get(oid)
        return (row[0], row[2]) if row else (None, None)

    expected = {k: {str(x) for x in end.get(k) or []} for k in ("refunded", "cancelled", "replaced")}
    cancellation_refunds = {}
    for oid, kind, cents, user in changes.refunds:
        owner, total = owner_total(oid)
        if kind == "cancellation":
            cancellation_refunds[oid] = cents
            continue
        if oid not in expected["refunded"]:
            wrong(f"order {oid} was refunded ({_money(cents)}), which the case does not allow")
        elif cents != total:
            wrong(f"order {oid} was refunded {_money(cents)}, not its total {_money(total or 0)}")
        elif user != owner or user != user_id:
            wrong(f"order {oid} was refunded to user {user}, not its owner")
    for oid in sorted(expected["refunded"] - changes.refunded):
        grade.failures.append(f"order {oid} should have been refunded, and was not")

    for oid in sorted(changes.cancelled):
        owner, total = owner_total(oid)
        if oid not in expected["cancelled"]:
            wrong(f"order {oid} was cancelled, which the case does not allow")
        elif cancellation_refunds.get(oid) != total:
            grade.failures.append(f"order {oid} was cancelled without a cancellation refund of "
                                  f"its total {_money(total or 0)}")
    for oid, cents in sorted(cancellation_refunds.items()):
        if oid not in changes.cancelled:
            wrong(f"a cancellation refund ({_money(cents)}) was recorded for order {oid}, "
                  "which was not cancelled by this case")
    for oid in sorted(expected["cancelled"] - changes.cancelled):
        grade.failures.append(f"order {oid} should have been cancelled, and was not")

    for oid, (old, new) in sorted(changes.status.items()):
        if new != "cancelled":
            grade.failures.append(f"order {oid} changed from {old} to {new}")

    for oid, new, user in changes.replacements:
        if oid not in expected["replaced"]:
            wrong(f"a replacement ({new}) was created for order {oid}, which the case does "
                  "not allow")
        elif user != user_id:
            wrong(f"the replacement for order {oid} went to user {user}")
    for oid in sorted(expected["replaced"] - changes.replaced):
        grade.failures.append(f"order {oid} should have been replaced, and was not")
    made = {new for _, new, _ in changes.replacements}
    for oid in changes.new_orders:
        if oid not in made:
            grade.failures.append(f"a new order {oid} appeared that is not a replacement")

    if "cases" in end:
        grade.failures += _grade_cases(end["cases"], changes.new_cases)
    return grade


def grade_ends(end: dict | list | None, changes: Changes, before: Snapshot,
               user_id: int) -> EndGrade:
    """`end` may list alternative end states (where the SPEC allows either of two outcomes):
    the case passes if one of them matches; otherwise the closest one is reported."""
    if not isinstance(end, list):
        return grade_end(end, changes, before, user_id)
    grades = [grade_end(e, changes, before, user_id) for e in end]
    return min(grades, key=lambda g: (len(g.wrong_money), len(g.failures)))


def _grade_cases(wanted, new_cases: list[dict]) -> list[str]:
    if isinstance(wanted, int):
        if len(new_cases) != wanted:
            return [f"expected {wanted} new escalation case(s), got {len(new_cases)}"
                    + _case_list(new_cases)]
        return []
    remaining = list(new_cases)
    problems = []
    for want in wanted:
        match = next((c for c in remaining if all(
            str(c.get(k)) == str(v) if v is not None else c.get(k) is None
            for k, v in want.items())), None)
        if match is None:
            problems.append(f"expected an escalation case {want}" + _case_list(new_cases))
        else:
            remaining.remove(match)
    if remaining and not problems:
        problems.append(f"{len(remaining)} unexpected escalation case(s)" + _case_list(remaining))
    return problems


def _case_list(cases: list[dict]) -> str:
    if not cases:
        return " (none)"
    return " (" + "; ".join(f"order {c.get('order_id')}, {c.get('priority')}" for c in cases) + ")"


# --- the audit trail -----------------------------------------------------------------------

AUDIT_TOOL = {"refund": "issue_refund", "cancellation": "cancel_order"}


def grade_audit(changes: Changes, records: list[dict]) -> list[str]:
    """Every refund, cancellation and replacement has a successful audit record for its order."""
    def recorded(tool: str, oid: str) -> bool:
        return any(r.get("tool") == tool and str(r.get("order_id")) == oid
                   and r.get("outcome") == "success" for r in records)

    problems = []
    for oid, kind, _, _ in changes.refunds:
        if not recorded(AUDIT_TOOL[kind], oid):
            problems.append(f"no audit record ({AUDIT_TOOL[kind]}, success) for order {oid}")
    for oid, _, _ in changes.replacements:
        if not recorded("create_replacement", oid):
            problems.append(f"no audit record (create_replacement, success) for order {oid}")
    return problems


# --- reply hygiene (every reply) -----------------------------------------------------------

PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s?%")
RULE_CODE = re.compile(r"\bR\d{1,2}[ab]?\b")
FILE_NAME = re.compile(r"\b[\w\-]+\.md\b", re.IGNORECASE)
JARGON = re.compile(r"\b(?:relevance|confidence)\b", re.IGNORECASE)
_I_HAVE = r"\b(?:I|we)(?:'ve|’ve| have)\s+(?:now\s+|just\s+|already\s+)?"
CLAIMS = {
    "refund": re.compile(_I_HAVE + r"(?:refunded|issued\s+(?:a|the|your)\s+(?:full\s+)?refund|"
                         r"processed\s+(?:a|the|your)\s+(?:full\s+)?refund)", re.IGNORECASE),
    "cancel": re.compile(_I_HAVE + r"cancell?ed\b|\bis\s+now\s+cancell?ed\b", re.IGNORECASE),
    "replacement": re.compile(
        _I_HAVE + r"(?:sent|created|arranged|ordered|set\s+up|shipped)\s+(?:a|the|your)\s+"
        r"(?:free\s+)?replacement|\breplacement\s+is\s+on\s+its\s+way\b|\bships\s+as\s+new\s+order\b",
        re.IGNORECASE),
    "escalation": re.compile(_I_HAVE + r"(?:escalated|passed|handed|forwarded)\b", re.IGNORECASE),
    "any": re.compile(r"^\W*(?:done|all\s+done|all\s+set)\b", re.IGNORECASE),
}
CONTRADICTIONS = [
    (re.compile(r"\bnone of your orders\b", re.I), re.compile(r"\bwhich order\b", re.I),
     "says none of the orders qualifies, then asks which order"),
    (re.compile(r"\b(?:no orders|not have any orders|don'?t have any orders)\b", re.I),
     re.compile(r"\b(?:which order|order number)\b", re.I),
     "says there are no orders, then asks for an order"),
]


def reply_problems(text: str, turn: Changes, open_case: bool) -> list[str]:
    """Hygiene checks on one reply; `turn` is what changed in the database during that turn,
    `open_case` whether the customer has an open escalation case after it (R12 repeats add to
    an existing case, which is a real hand-off too)."""
    text = text or ""
    problems = []
    for pattern, what in ((PERCENT, "a percentage"), (RULE_CODE, "a rule code"),
                          (FILE_NAME, "a file name"), (JARGON, "internal jargon")):
        hit = pattern.search(text)
        if hit:
            problems.append(f"reply shows {what}: {hit.group(0)!r}")
    happened = {
        "refund": any(kind == "refund" for _, kind, _, _ in turn.refunds),
        "cancel": bool(turn.cancelled),
        "replacement": bool(turn.replacements),
        "escalation": bool(turn.new_cases) or open_case,
        "any": turn.anything or open_case,
    }
    for kind, pattern in CLAIMS.items():
        hit = pattern.search(text)
        if hit and not happened[kind]:
            problems.append(f"reply claims an action that did not run: {hit.group(0)!r}")
    for first, second, what in CONTRADICTIONS:
        if first.search(text) and second.search(text):
            problems.append(f"reply contradicts itself: {what}")
    return problems


# --- one turn's expectations ---------------------------------------------------------------

FIELDS = {"intent": ("intent",), "action": ("action",), "order_id": ("order_id",),
          "status": ("action_result", "status"), "escalated": ("escalated",), "mode": ("mode",)}
EXPECT_KEYS = frozenset({*FIELDS, "proposal", "http", "reply_has", "reply_lacks", "amount"})


def _get(body: dict, path: tuple[str, ...]):
    value = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _options(value) -> list:
    return value if isinstance(value, list) else [value]


def _same(want, got) -> bool:
    if want is None or got is None:
        return want is got
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    return str(want) == str(got)


def matches(pattern: str, text: str) -> bool:
    """`re:...` is a case-insensitive regular expression; anything else a case-insensitive
    substring."""
    if pattern.startswith("re:"):
        return re.search(pattern[3:], text, re.IGNORECASE) is not None
    return pattern.casefold() in text.casefold()


def check_expect(expect: dict | None, http_status: int, body: dict) -> list[str]:
    expect = expect or {}
    problems = []
    want_http = _options(expect.get("http", 200))
    if http_status not in want_http:
        detail = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
        return [f"HTTP {http_status}" + (f" ({detail})" if detail else "")
                + f", expected {'/'.join(map(str, want_http))}"]
    if http_status != 200:
        return problems
    for key, path in FIELDS.items():
        if key in expect:
            got = _get(body, path)
            if not any(_same(w, got) for w in _options(expect[key])):
                problems.append(f"{key} is {got!r}, expected {_show(expect[key])}")
    if "proposal" in expect:
        has = bool(body.get("proposal"))
        if has not in [bool(w) for w in _options(expect["proposal"])]:
            problems.append("a proposal was made" if has else "no proposal was made")
    if "amount" in expect:
        got = _get(body, ("proposal", "amount"))
        if got is None:
            got = _get(body, ("action_result", "amount"))
        if got is None or not any(abs(float(got) - float(w)) < 0.005 for w in _options(expect["amount"])):
            problems.append(f"amount is {got!r}, expected {_show(expect['amount'])}")
    reply = body.get("response") or ""
    for item in expect.get("reply_has") or []:
        alternatives = _options(item)
        if not any(matches(p, reply) for p in alternatives):
            problems.append(f"reply lacks {_show(item)}")
    for item in expect.get("reply_lacks") or []:
        if matches(item, reply):
            problems.append(f"reply has {item!r}")
    return problems


def _show(value) -> str:
    return " or ".join(repr(v) for v in _options(value))


# --- dates as facts ------------------------------------------------------------------------

MONTHS = ("January February March April May June July August September October November "
          "December").split()


def date_pattern(moment: datetime) -> str:
    """A `re:` pattern matching one calendar day written the usual ways: 2026-12-05, 5 Dec,
    Dec 5, 5th December, December 5th, 05/12 is not accepted (ambiguous)."""
    month = MONTHS[moment.month - 1]
    names = f"(?:{month}|{month[:3]}\\.?)"
    day = f"0?{moment.day}(?:st|nd|rd|th)?"
    return (f"re:(?:{moment:%Y-%m-%d}|\\b{day}\\s+(?:of\\s+)?{names}\\b|"
            f"\\b{names}\\s+{day}\\b)")


PLACEHOLDER = re.compile(r"^date:([A-Za-z0-9\-_]+):(ordered|shipped|delivered|refund)([+-]\d+)?$")


def expand(pattern: str, fixture: dict) -> str:
    """`date:30101:delivered+30` -> a pattern for the day order 30101's refund window ends;
    `date:34301:refund` -> the day its refund was made. Fixture dates move with "now", so
    cases name them this way instead of writing a date down."""
    from datetime import timedelta

    hit = PLACEHOLDER.match(pattern) if isinstance(pattern, str) else None
    if not hit:
        return pattern
    oid, what, offset = hit.group(1), hit.group(2), int(hit.group(3) or 0)
    if what == "refund":
        row = next((r for r in fixture["refunds"] if r["order_id"] == oid), None)
        value = row and row["created_at"]
    else:
        row = next((o for o in fixture["orders"] if o["id"] == oid), None)
        value = row and row.get(f"{what}_at")
    if not value:
        raise ValueError(f"{pattern}: the fixture has no such date")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) + timedelta(days=offset)
    return date_pattern(moment)
