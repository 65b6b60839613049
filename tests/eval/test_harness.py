"""The conversation evaluation's own checks, on synthetic inputs (no agent, no model; fast).

Not a gate on the pass rate: these prove that the grader notices what it must notice — a
wrong money movement, a forbidden percentage, a claim of an action that did not run — and
that every case file follows the format.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.eval import grading
from bench.eval.fixture import CUSTOMERS, build_fixture
from bench.eval.run_eval import CaseError, load_cases, validate
from db.fixture_schema import parse_fixture

BEFORE = grading.Snapshot(
    orders={"100": (1, "delivered", 4500), "101": (1, "pending", 1250),
            "200": (2, "delivered", 8900)},
    refunds={}, replacements={}, cases={})


def changes(**kw) -> grading.Changes:
    return grading.Changes(**kw)


# --- the end state ---------------------------------------------------------------------------

def test_expected_refund_passes():
    grade = grading.grade_end({"refunded": ["100"]},
                              changes(refunds=[("100", "refund", 4500, 1)]), BEFORE, 1)
    assert grade.failures == [] and grade.wrong_money == []


def test_refund_of_an_order_not_listed_is_a_wrong_money_movement():
    grade = grading.grade_end({}, changes(refunds=[("100", "refund", 4500, 1)]), BEFORE, 1)
    assert len(grade.wrong_money) == 1 and "100" in grade.wrong_money[0]


def test_refund_of_another_users_order_is_a_wrong_money_movement():
    grade = grading.grade_end({"refunded": ["100"]},
                              changes(refunds=[("100", "refund", 4500, 1),
                                               ("200", "refund", 8900, 2)]), BEFORE, 1)
    assert len(grade.wrong_money) == 1 and "200" in grade.wrong_money[0]


def test_partial_refund_is_a_wrong_money_movement():
    grade = grading.grade_end({"refunded": ["100"]},
                              changes(refunds=[("100", "refund", 500, 1)]), BEFORE, 1)
    assert grade.wrong_money and "$5.00" in grade.wrong_money[0]


def test_missing_refund_fails_but_moves_no_money():
    grade = grading.grade_end({"refunded": ["100"]}, changes(), BEFORE, 1)
    assert grade.failures and grade.wrong_money == []


def test_cancellation_needs_status_change_and_cancellation_refund():
    done = changes(status={"101": ("pending", "cancelled")},
                   refunds=[("101", "cancellation", 1250, 1)])
    assert grading.grade_end({"cancelled": ["101"]}, done, BEFORE, 1).failures == []
    no_refund = changes(status={"101": ("pending", "cancelled")})
    assert grading.grade_end({"cancelled": ["101"]}, no_refund, BEFORE, 1).failures
    unexpected = grading.grade_end({}, done, BEFORE, 1)
    assert len(unexpected.wrong_money) == 1


def test_unexpected_replacement_is_a_wrong_money_movement():
    grade = grading.grade_end({}, changes(replacements=[("100", "100-R", 1)],
                                          new_orders=["100-R"]), BEFORE, 1)
    assert len(grade.wrong_money) == 1


def test_cases_by_count_and_by_order_and_priority():
    new = [{"order_id": "100", "priority": "high", "user_id": 1, "status": "open"}]
    assert grading.grade_end({"cases": 1}, changes(new_cases=new), BEFORE, 1).failures == []
    assert grading.grade_end({"cases": 0}, changes(new_cases=new), BEFORE, 1).failures
    assert grading.grade_end({"cases": [{"order_id": "100", "priority": "high"}]},
                             changes(new_cases=new), BEFORE, 1).failures == []
    assert grading.grade_end({"cases": [{"order_id": "100", "priority": "normal"}]},
                             changes(new_cases=new), BEFORE, 1).failures
    # Omitted: not checked.
    assert grading.grade_end({}, changes(new_cases=new), BEFORE, 1).failures == []


def test_alternative_end_states():
    refund = changes(refunds=[("100", "refund", 4500, 1)])
    ends = [{"refunded": ["200"]}, {"refunded": ["100"]}]
    assert grading.grade_ends(ends, refund, BEFORE, 1).failures == []
    assert grading.grade_ends([{"cancelled": ["101"]}], refund, BEFORE, 1).wrong_money


def test_diff_sees_new_rows_and_status_changes():
    after = grading.Snapshot(
        orders={**BEFORE.orders, "101": (1, "cancelled", 1250), "100-R": (1, "processing", 0)},
        refunds={"101": ("cancellation", 1250, 1)},
        replacements={"100": ("100-R", 1)},
        cases={7: {"user_id": 1, "order_id": None, "priority": "normal", "status": "open"}})
    d = grading.diff(BEFORE, after)
    assert d.cancelled == {"101"} and d.replaced == {"100"} and d.new_orders == ["100-R"]
    assert [c["id"] for c in d.new_cases] == [7]


# --- the audit trail -------------------------------------------------------------------------

def test_change_without_audit_record_is_reported():
    done = changes(refunds=[("100", "refund", 4500, 1)])
    assert grading.grade_audit(done, [])
    ok = [{"tool": "issue_refund", "order_id": "100", "outcome": "success"}]
    assert grading.grade_audit(done, ok) == []
    proposed_only = [{"tool": "issue_refund", "order_id": "100", "outcome": "needs_confirmation"}]
    assert grading.grade_audit(done, proposed_only)


# --- reply hygiene ---------------------------------------------------------------------------

@pytest.mark.parametrize("reply", [
    "I'm only 45% sure what you want.",
    "Refunds are handled under R2 refund.",
    "See refund_policy.md for details.",
    "Answered with a relevance of 0.8.",
    "My confidence is low.",
])
def test_forbidden_reply_content(reply):
    assert grading.reply_problems(reply, changes(), open_case=False)


@pytest.mark.parametrize("reply", [
    "I've refunded $45.00 for order #100.",
    "Done — order #100 is cancelled.",
    "I have cancelled order #101.",
    "Your replacement is on its way.",
    "I've escalated this to a specialist.",
])
def test_claim_of_an_action_that_did_not_run(reply):
    problems = grading.reply_problems(reply, changes(), open_case=False)
    assert any("claims" in p for p in problems)


def test_claim_backed_by_the_database_is_fine():
    refund = changes(refunds=[("100", "refund", 4500, 1)])
    assert grading.reply_problems("Done — I've refunded $45.00 for order #100.", refund,
                                  open_case=False) == []
    assert grading.reply_problems("I've passed this to a colleague.", changes(),
                                  open_case=True) == []


def test_plain_replies_pass():
    for reply in ("I can refund $45.00 for order #100 to your original payment method. "
                  "Shall I go ahead?",
                  "Order #100 was refunded on 5 Nov: $45.00 back to your card.",
                  "Order #1042 is shipped with UPS, tracking number 1Z999."):
        assert grading.reply_problems(reply, changes(), open_case=False) == []


def test_self_contradiction():
    reply = "None of your orders qualifies for a refund. Which order do you mean?"
    assert any("contradicts" in p for p in grading.reply_problems(reply, changes(), False))
    reply = "There are no orders on your account. Just reply with the order number."
    assert any("contradicts" in p for p in grading.reply_problems(reply, changes(), False))


# --- one turn's expectations -----------------------------------------------------------------

BODY = {"intent": "refund", "action": "issue_refund", "order_id": "100", "escalated": False,
        "mode": "offline", "action_result": {"status": "needs_confirmation", "reason": "…"},
        "proposal": {"id": "p_1", "amount": 45.0}, "response": "I can refund $45.00 for #100."}


def test_expectations_match_single_values_and_lists():
    assert grading.check_expect({"status": "needs_confirmation", "order_id": "100",
                                 "proposal": True, "amount": 45.0,
                                 "intent": ["refund", "policy_question"]}, 200, BODY) == []
    assert grading.check_expect({"status": "success"}, 200, BODY)
    assert grading.check_expect({"proposal": False}, 200, BODY)
    assert grading.check_expect({"proposal": [True, False]}, 200, BODY) == []
    assert grading.check_expect({"order_id": None}, 200, BODY)
    assert grading.check_expect({"amount": 5.0}, 200, BODY)


def test_reply_facts_are_case_insensitive_substrings_regexes_or_any_of():
    assert grading.check_expect({"reply_has": ["$45.00", "re:#\\d{3}", ["nope", "REFUND"]]},
                                200, BODY) == []
    assert grading.check_expect({"reply_has": ["$5.00"]}, 200, BODY)
    assert grading.check_expect({"reply_lacks": ["refund"]}, 200, BODY)


def test_http_status_is_checked_first():
    assert grading.check_expect({"http": 404}, 404, {"error": {"message": "no"}}) == []
    assert grading.check_expect({}, 404, {"error": {"message": "no"}})
    assert grading.check_expect({"http": [200, 409]}, 409, {}) == []


def test_date_placeholders_match_the_usual_spellings():
    fixture = {"orders": [{"id": "100", "delivered_at": "2026-11-05T16:00:00Z"}], "refunds": []}
    pattern = grading.expand("date:100:delivered+30", fixture)
    for text in ("until 2026-12-05", "until 5 Dec", "until December 5th", "until Dec. 5"):
        assert grading.matches(pattern, text), text
    assert not grading.matches(pattern, "until 15 Dec")
    assert not grading.matches(pattern, "until 2026-12-15")


# --- the fixture and the case files ----------------------------------------------------------

def test_fixture_is_valid_and_dated_relative_to_now():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    fixture = build_fixture(now)
    parse_fixture(fixture)  # what init_db --seed-file checks
    order = next(o for o in fixture["orders"] if o["id"] == "30801")
    delivered = datetime.fromisoformat(order["delivered_at"].replace("Z", "+00:00"))
    assert (now.date() - delivered.date()) == timedelta(days=30)
    assert 40 <= len(CUSTOMERS) <= 90


def test_every_case_file_follows_the_format():
    cases = load_cases()
    assert len(cases) >= 300
    assert len({c["id"] for c in cases}) == len(cases)
    users = {c["id"] for c in CUSTOMERS}
    assert {c["user"] for c in cases} <= users


def test_format_errors_are_reported():
    with pytest.raises(CaseError):
        validate({"id": "x", "user": 1, "turns": [{"say": "hi", "wait_minutes": 31}]}, "t")
    with pytest.raises(CaseError):
        validate({"id": "x", "user": 1, "turns": [{"say": "hi", "expect": {"stauts": "x"}}]}, "t")
    with pytest.raises(CaseError):
        validate({"id": "x", "user": 1, "turns": [], "end": {"refund": []}}, "t")
