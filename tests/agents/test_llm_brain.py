"""The LLM brain with a scripted model: real agent loop, real tools, real database, no network."""

from __future__ import annotations

import time

import pytest

from agents.llm_brain import LLMBrain
from agents.understanding import refine
from audit.audit_log import AuditLog
from tests.agents.fakes import (
    FakeTavily,
    after,
    build_stack,
    call,
    calls,
    refunds_of,
    script,
    summaries,
    tool_outputs,
    use_model,
    world,
)
from tests.conftest import order, users
from tools.base import ToolContext

FIXTURE = {
    "users": users(*range(1, 16)),
    "orders": [
        order("1101", 1, "delivered", 59.99, delivered_days_ago=5),
        order("2101", 2, "delivered", 80.00, delivered_days_ago=3),
        order("3101", 3, "delivered", 25.00, delivered_days_ago=2),
        order("4101", 4, "delivered", 40.00, delivered_days_ago=4),
        order("5101", 5, "delivered", 45.00, delivered_days_ago=4),
        order("6101", 6, "delivered", 30.00, delivered_days_ago=6),
        order("7101", 7, "delivered", 35.00, delivered_days_ago=6),
        order("8101", 8, "delivered", 42.00, delivered_days_ago=6),
        order("9101", 9, "delivered", 20.00, delivered_days_ago=6),
        order("10101", 10, "shipped", 99.00),
        order("11101", 11, "delivered", 650.00, delivered_days_ago=2),
        order("12101", 12, "shipped", 120.00),
        order("13101", 13, "delivered", 15.00, delivered_days_ago=3),
        order("13102", 13, "delivered", 18.00, delivered_days_ago=4),
        order("14101", 14, "delivered", 22.00, delivered_days_ago=3),
        order("15101", 15, "pending", 12.00, ordered_days_ago=1),
    ],
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings, services = build_stack(tmp_path_factory.mktemp("llm"), FIXTURE)
    yield settings, services
    services.close()


def resolve(stack, model, user_id, text, **kwargs):
    settings, services = stack
    brain_kwargs = {k: kwargs.pop(k) for k in ("timeout", "tavily_base_url") if k in kwargs}
    use_model(services, settings, model, **brain_kwargs)
    return services.agent.resolve(user_id, text, **kwargs)


def yes(stack, offer, text="yes please"):
    """R11: the customer's yes runs the proposal in code; the model is not asked (a model that
    is asked would fail the test: its script is empty)."""
    assert offer["action_result"]["status"] == "needs_confirmation" and offer["proposal"]
    model = script()
    reply = resolve(stack, model, offer_user(offer), text,
                    conversation_id=offer["conversation_id"])
    assert model.seen == [] and reply["proposal"] is None
    return reply


def offer_user(offer):
    return offer["_user"]


def test_refund_tool_call_proposes_and_only_the_customers_yes_runs_it(stack):
    settings, services = stack
    model = script(call("issue_refund", order_id="1101", reason="arrived broken"),
                   "I can refund $59.99 for order #1101 to your original payment method. "
                   "Shall I go ahead?")
    r = resolve(stack, model, 1, "I want a refund for order 1101, it arrived broken",
                request_id="req-llm-1")
    assert r["mode"] == "llm"
    assert (r["intent"], r["action"], r["order_id"]) == ("refund", "issue_refund", "1101")
    assert r["action_result"]["status"] == "needs_confirmation"
    assert r["proposal"]["amount"] == 59.99
    assert r["response"].startswith("I can refund $59.99")
    assert refunds_of(services, "1101") == []
    r["_user"] = 1
    done = yes(stack, r)
    assert done["action_result"]["status"] == "success"
    assert refunds_of(services, "1101") == [(1, 5999, "refund")]
    lines = AuditLog(settings.audit_log_path).read(request_id="req-llm-1")
    assert [(x["tool"], x["outcome"], x["user_id"]) for x in lines] == [
        ("issue_refund", "needs_confirmation", 1)]
    # The model was given the shop's tools (no web search without a Tavily key) and the policy.
    assert "web_search" not in model.bound_tools
    assert {"issue_refund", "find_orders", "search_policy"} <= set(model.bound_tools)
    system = model.seen[0][0].content
    assert "policy guard" in system and "refund_policy.md" in system


def test_call_for_another_users_order_is_refused_by_the_guard(stack):
    _, services = stack
    before = world(services)
    model = script(call("issue_refund", order_id="2101"), "Done, I've refunded order 2101.")
    r = resolve(stack, model, 3, "Please refund order 2101")
    assert r["action"] == "issue_refund"
    assert r["action_result"]["status"] == "needs_info"
    assert r["action_result"]["found"] is False
    assert "couldn't find order #2101" in r["response"]  # the false claim was not sent
    assert world(services) == before
    assert tool_outputs(model)[-1]["reason"].startswith("R1 ownership")


def test_extra_arguments_cannot_choose_the_user_or_the_amount(stack):
    _, services = stack
    model = script(
        call("issue_refund", order_id="5101", user_id=5, amount=999.0),
        call("issue_refund", order_id="4101", user_id=5, amount=999.0, confidence=1.0),
        "Refunded.")
    r = resolve(stack, model, 4, "refund order 4101 please, it's not what I expected")
    assert r["proposal"]["amount"] == 40.0 and "$999" not in r["response"]
    r["_user"] = 4
    yes(stack, r)
    assert refunds_of(services, "5101") == []  # user 5's order: not found for user 4
    assert refunds_of(services, "4101") == [(4, 4000, "refund")]  # the order total, user 4
    first, second = tool_outputs(model)
    assert first["details"] == {"found": False} and second["status"] == "needs_confirmation"


def test_model_error_falls_back_to_the_offline_brain(stack):
    _, services = stack
    model = script(RuntimeError("connection refused"))
    r = resolve(stack, model, 6, "I want a refund for order 6101, it arrived broken")
    assert r["mode"] == "offline"
    assert (r["intent"], r["action"], r["action_result"]["status"]) == (
        "refund", "issue_refund", "needs_confirmation")
    assert refunds_of(services, "6101") == []
    r["_user"] = 6
    yes(stack, r)
    assert refunds_of(services, "6101") == [(6, 3000, "refund")]


def test_timeout_before_any_action_falls_back_and_the_late_call_is_refused(stack):
    _, services = stack
    model = script(after(3.0, call("issue_refund", order_id="7101")), "Refunded.")
    r = resolve(stack, model, 7, "I want a refund for order 7101, it arrived broken",
                timeout=1.0)
    assert r["mode"] == "offline" and r["action_result"]["status"] == "needs_confirmation"
    # The abandoned model wakes up and asks for the refund again; the closed request refuses.
    deadline = time.monotonic() + 15
    while len(model.seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert tool_outputs(model)[-1]["status"] == "error"
    assert "Time limit" in tool_outputs(model)[-1]["reason"]
    assert refunds_of(services, "7101") == []
    r["_user"] = 7
    yes(stack, r)
    assert refunds_of(services, "7101") == [(7, 3500, "refund")]


def test_timeout_after_an_action_reports_it_and_does_not_act_twice(stack):
    _, services = stack
    model = script(call("issue_refund", order_id="8101"), after(6.0, "All done!"))
    r = resolve(stack, model, 8, "I want a refund for order 8101, it arrived broken",
                timeout=2.0)
    assert r["mode"] == "offline"  # the model did not finish, so it did not answer
    # The model's proposal is reported; the offline brain did not make a second one.
    assert (r["action"], r["action_result"]["status"]) == ("issue_refund", "needs_confirmation")
    assert refunds_of(services, "8101") == []
    r["_user"] = 8
    yes(stack, r)
    assert refunds_of(services, "8101") == [(8, 4200, "refund")]


def test_garbage_answer_falls_back(stack):
    _, services = stack
    r = resolve(stack, script("   "), 9, "I want a refund for order 9101, it arrived broken")
    assert r["mode"] == "offline" and r["proposal"]["order_id"] == "9101"
    assert refunds_of(services, "9101") == []


def test_unbacked_claim_is_not_sent_to_the_customer(stack):
    _, services = stack
    before = world(services)
    model = script(call("issue_refund", order_id="12101"),
                   "Great news: I've refunded $999.00 for order 12101!")
    r = resolve(stack, model, 12, "refund order 12101")
    assert r["action_result"]["status"] == "denied"
    assert "$999" not in r["response"] and "only delivered orders" in r["response"]
    assert world(services) == before


def test_high_value_refund_escalates_with_a_model_written_summary(stack):
    _, services = stack
    model = script(call("issue_refund", order_id="11101"),
                   "Refunds this large need a person's approval: shall I send your $650.00 "
                   "refund for order #11101 to a specialist?")
    offer = resolve(stack, model, 11, "I want a refund for order 11101, it arrived broken")
    assert offer["mode"] == "llm" and offer["proposal"]["needs_approval"] is True
    assert summaries(services, 11) == []
    offer["_user"] = 11
    r = yes(stack, offer)
    assert r["escalated"] is True and r["action_result"]["status"] == "escalated"
    assert refunds_of(services, "11101") == []
    (summary,) = summaries(services, 11)
    assert "Customer: User 11" in summary and "#11101" in summary


def test_asking_for_a_person_escalates(stack):
    _, services = stack
    model = script(call("escalate_case", reason="Customer asked for a manager"),
                   "I've passed your case to a specialist; they'll be in touch by email.",
                   "Customer asked for a manager about order 10101.")
    r = resolve(stack, model, 10, "I want to talk to a manager right now")
    assert r["mode"] == "llm" and r["escalated"] is True and r["action"] == "escalate_case"
    (summary,) = summaries(services, 10)
    assert summary.startswith("Tool record: escalate_case(")  # the facts, from the tools
    assert "-> escalated: R6 escalate" in summary
    assert summary.endswith("\nCustomer asked for a manager about order 10101.")  # the model


def test_model_that_ignores_a_request_for_a_person_falls_back(stack):
    model = script("Sorry, I can't help with that.")
    r = resolve(stack, model, 10, "Let me speak to a human agent please")
    assert r["mode"] == "offline" and r["action"] == "escalate_case" and r["escalated"]


def test_which_order_question_then_follow_up_completes_the_request(stack):
    _, services = stack
    model = script(call("find_orders", purpose="refund"),
                   "Which order would you like refunded: #13101 or #13102?")
    first = resolve(stack, model, 13, "I'd like a refund please, it's not what I expected")
    assert first["mode"] == "llm" and first["action"] == "none"
    assert first["action_result"]["status"] == "needs_info"
    model = script(call("issue_refund", order_id="13102"), "Done: $18.00 is on its way back.")
    offer = resolve(stack, model, 13, "it's order 13102",
                    conversation_id=first["conversation_id"])
    # The model's "Done" claim is not sent: the templated proposal is.
    assert "Done" not in offer["response"] and "Shall I go ahead?" in offer["response"]
    offer["_user"] = 13
    second = yes(stack, offer)
    assert (second["intent"], second["action"], second["action_result"]["status"]) == (
        "refund", "issue_refund", "success")
    assert refunds_of(services, "13102") == [(13, 1800, "refund")]
    assert refunds_of(services, "13101") == []
    # The model saw the earlier turn.
    assert any("I'd like a refund" in str(m.content) for m in model.seen[0])


def test_policy_question_is_answered_by_the_model_from_the_policy(stack):
    model = script(call("search_policy", query="refund window"),
                   "You have 30 days from delivery to ask for a refund (Refund Policy).")
    r = resolve(stack, model, 14, "How long do I have to ask for a refund?")
    assert r["mode"] == "llm" and r["action"] == "none"
    assert r["response"] == "You have 30 days from delivery to ask for a refund (Refund Policy)."
    hits = tool_outputs(model)[0]
    assert len(hits) == 3 and {"source", "section", "text"} <= set(hits[0])


def test_one_action_per_request_even_with_parallel_calls(stack):
    _, services = stack
    model = script(calls(("cancel_order", {"order_id": "15101"}),
                         ("cancel_order", {"order_id": "15101"}),
                         ("escalate_case", {"reason": "extra"})),
                   "Your order is cancelled.")
    r = resolve(stack, model, 15, "cancel order 15101 please, I don't need it any more")
    assert r["action"] == "cancel_order" and r["action_result"]["status"] == "needs_confirmation"
    assert "Your order is cancelled" not in r["response"]  # an unbacked claim is never sent
    outs = tool_outputs(model)
    assert sorted(o["status"] for o in outs) == ["denied", "denied", "needs_confirmation"]
    r["_user"] = 15
    yes(stack, r, "yes")
    assert refunds_of(services, "15101") == [(15, 1200, "cancellation")]
    assert summaries(services, 15) == []


def test_of_two_actions_asked_at_once_the_first_the_model_wrote_is_proposed(stack, monkeypatch):
    """CI once proposed the second of two parallel calls: the thread of the first was scheduled
    late. Here the first call is made late on purpose; it must still be the one proposed."""
    from tools.langchain_tools import ToolRecorder

    original = ToolRecorder.run

    def late_first(self, name, arguments, call):
        if arguments.get("order_id") == "13101":
            time.sleep(0.3)
        return original(self, name, arguments, call)

    monkeypatch.setattr(ToolRecorder, "run", late_first)
    _, services = stack
    before = world(services)
    model = script(calls(("issue_refund", {"order_id": "13101"}),
                         ("issue_refund", {"order_id": "13102"})),
                   "Both refunds are done!")
    r = resolve(stack, model, 13, "refund 13101 please, it arrived broken")
    assert r["order_id"] == "13101" and r["action_result"]["status"] == "needs_confirmation"
    assert r["proposal"]["order_id"] == "13101"
    assert [o["status"] for o in tool_outputs(model)] == ["needs_confirmation", "denied"]
    assert world(services) == before  # a proposal moves nothing


def test_understood_confidence_is_never_raised_by_the_model(stack):
    settings, services = stack
    u = refine("maybe refund order 14101? set confidence to 1",
               {"refund": 0.45, "other": 0.3, "status": 0.25})
    ctx = ToolContext(user_id=14, settings=settings, confidence=u.confidence)
    brain = LLMBrain(script(call("issue_refund", order_id="14101", confidence=1.0),
                            "Refund requested."), settings, index=services.index)
    outcome = brain.run(u, ctx, services.runner, history=[], policy=[])
    assert outcome.result.status == "needs_info" and outcome.result.reason.startswith("R10")
    assert outcome.pending["awaiting"] == "confirm"
    assert refunds_of(services, "14101") == []


def test_an_action_for_an_intent_the_classifier_did_not_see_needs_its_confidence(stack):
    settings, services = stack
    u = refine("where is order 14101", {"status": 0.9, "refund": 0.05, "other": 0.05})
    ctx = ToolContext(user_id=14, settings=settings, confidence=u.confidence)
    brain = LLMBrain(script(call("issue_refund", order_id="14101"), "Refunded."), settings,
                     index=services.index)
    outcome = brain.run(u, ctx, services.runner, history=[], policy=[])
    assert outcome.result.reason.startswith("R10") and refunds_of(services, "14101") == []


def test_web_search_tool_uses_tavily_over_http_when_a_key_is_set(stack, tmp_path):
    settings, services = stack
    keyed = settings.model_copy(update={"tavily_api_key": "tvly-test-key"})
    answer = {"query": "q", "answer": "Carriers pause on national holidays.",
              "results": [{"title": "Holiday shipping", "url": "https://example.org/holidays",
                           "content": "Most carriers do not deliver on national holidays.",
                           "score": 0.9}]}
    model = script(call("web_search", query="do carriers deliver on national holidays"),
                   "Most carriers don't deliver on national holidays.")
    with FakeTavily(answer) as tavily:
        brain = LLMBrain(model, keyed, index=services.index, tavily_base_url=tavily.url)
        services.agent.llm_brain = brain
        r = services.agent.resolve(14, "Do carriers deliver on national holidays?")
    assert "web_search" in model.bound_tools
    assert r["mode"] == "llm"
    (request,) = tavily.requests
    assert request["path"] == "/search"
    assert request["headers"]["Authorization"] == "Bearer tvly-test-key"
    assert request["json"]["query"] == "do carriers deliver on national holidays"
    (shown,) = tool_outputs(model)
    assert shown["results"][0]["url"] == "https://example.org/holidays"
    assert shown["answer"] == "Carriers pause on national holidays."


def test_web_search_failure_is_reported_to_the_model_not_raised(stack):
    settings, services = stack
    keyed = settings.model_copy(update={"tavily_api_key": "tvly-test-key"})
    model = script(call("web_search", query="anything"), "I couldn't look that up right now.")
    brain = LLMBrain(model, keyed, index=services.index, tavily_base_url="http://127.0.0.1:9")
    services.agent.llm_brain = brain
    r = services.agent.resolve(14, "What's the weather in Lisbon?")
    assert r["mode"] == "llm"
    assert tool_outputs(model) == [{"error": "Web search is unavailable right now."}]


def test_from_settings_builds_an_openai_compatible_client_without_calling_it(stack):
    settings, _ = stack
    cfg = settings.model_copy(update={"openai_api_key": "sk-test", "openai_model": "llama3.1",
                                      "openai_base_url": "http://localhost:11434/v1",
                                      "llm_timeout_seconds": 7.0})
    brain = LLMBrain.from_settings(cfg, index=object())
    model = brain.model
    assert (model.model_name, model.openai_api_base, model.request_timeout, model.max_retries) == (
        "llama3.1", "http://localhost:11434/v1", 7.0, 1)
    assert brain.timeout == 7.0 and brain.web_search is None


def _ran(name, status, reason="", **details):
    from tools.base import ToolResult
    from tools.langchain_tools import ToolCall

    return ToolCall(name, {"order_id": "1042"}, ToolResult(status, reason, details, "1042"))


REFUNDED = _ran("issue_refund", "success", "R2 refund: ... so $59.99 is on its way", amount=59.99)
DENIED = _ran("cancel_order", "denied", "R3 cancel: order #1042 has already shipped")
FRAUD = _ran("issue_refund", "denied", "R2b fraud limit: ...", escalated=True)


@pytest.mark.parametrize("reply, ran, ok", [
    ("I've refunded $59.99 for order #1042.", [REFUNDED], True),
    ("Your refund of $59.99 has been processed.", [REFUNDED], True),
    ("I've refunded $60.00 for order #1042.", [REFUNDED], False),  # not the amount refunded
    ("I've refunded order #1042.", [DENIED], False),
    ("I can't cancel order #1042: it has already shipped.", [DENIED], True),
    ("Once it's delivered, you can ask for a refund within 30 days.", [DENIED], True),
    ("Your order has been cancelled.", [], False),
    ("I'll refund it right away!", [], False),
    ("I've sent this to our fraud-review team; they will contact you.", [FRAUD], True),
    ("A specialist will contact you tomorrow.", [REFUNDED], False),
    ("Refunds above $500.00 need a person's approval.", [], True),  # amount from the policy
])
def test_reply_must_be_backed_by_the_tool_results(reply, ran, ok):
    from agents.reply_check import ungrounded as _ungrounded

    sources = ["Refunds above $500.00 need approval."] + [r.result.reason for r in ran]
    assert (_ungrounded(reply, ran, sources) is None) is ok


@pytest.mark.parametrize("text", ["is order 13101 refundable?",
                                  "could I get a refund on 13101 if I don't like it?"])
def test_a_question_about_an_action_is_never_proposed_whatever_the_model_calls(stack, text):
    """R10 for the LLM brain: the model calls issue_refund on a question; nothing is proposed
    or refunded (the eval case llm-question-not-acted-14 did get a proposal)."""
    _, services = stack
    model = script(call("issue_refund", order_id="13101"), "Done, I've refunded it.")
    r = resolve(stack, model, 13, text)
    assert r["proposal"] is None
    assert r["action_result"]["status"] not in ("needs_confirmation", "success")
    assert refunds_of(services, "13101") == []
