"""A proposal is on the table (SPEC R11): answering the customer's reply to it.

A yes runs it (once, with every rule checked again); "no" drops it and says nothing
changed; an acknowledgement or "let me check" asks again and keeps it; a question about it
("where does the money go?") is answered and the offer stated again; "no wait, the mouse"
or "no, the other one" moves it to that order; anything else drops it and is then read as
a message of its own.
"""

from __future__ import annotations

import re
from dataclasses import replace

from agents import records
from agents.confirmation import answer_to_offer
from agents.dialogue import Dialogue
from agents.offline_brain import Outcome
from agents.order_linking import link
from agents.replies import TIME_LEFT, fact_answer, plain, status_text
from agents.turns import DEFER, Step, as_policy_query, offer_intent, public_view
from agents.understanding import QUESTION_START, Understanding
from tools.base import ToolContext, ToolResult
from tools.registry import Confirmed, ProposalGone, ProposalNotFound

STATUS_WORDS = {"pending": "pending", "processing": "processing", "shipped": "shipped",
                "delivered": "delivered", "cancelled": "cancelled", "canceled": "cancelled"}
THE_STATUS_ONE = re.compile(r"(?i)^\W*(?:it'?s |i mean |yes,? )?the (pending|processing|shipped|"
                            r"delivered|cancell?ed) (?:one|order|mug|item)?")
NO_PREFIX = re.compile(r"(?i)^\s*(?:(?:wait|hold on|hang on|actually|hmm+|oh|sorry|erm|um|ok|okay)"
                       r"[,.!\s]+)*(?:no+|nope|nah)\b[,.!\s-]*(?:(?:wait|actually|sorry)\b"
                       r"[,.!\s-]*)*")
# "how long is this offer open?": about the proposal itself, not the order's window.
OFFER_ITSELF = re.compile(r"(?i)\b(?:offer|proposal|confirm\w*|this link|the button)\b")
WHEN_DID = re.compile(r"(?i)\bwhen (?:was|did|were|is|has) (?:it|this|that|they|i|my \w+(?: \w+)?)"
                      r"\s+(?:\w+\s+)?(?:order|ordered|placed|bought|ship|shipped|sent|deliver|"
                      r"delivered|arrive|arrived)\b|\bwhat date\b|\bwhich day\b")
OTHER_ONE = re.compile(r"(?i)\bthe other (?:one|order)\b|\bnot (?:that|this) one\b")


def _other_order(text: str, snapshot: dict, orders: list) -> str | None:
    """"No wait, the mouse": the same request for another of the customer's orders."""
    from agents.requests import CUES

    named = {intent for intent, pattern in CUES if pattern.search(text)}
    if named - {offer_intent(snapshot)} or len(text) > 80:
        return None  # another action, or a status question ("where is my telescope?")
    found = link(text, orders)
    others = [oid for oid in found.order_ids if oid != snapshot["order_id"]]
    if (not found.order_ids and len(found.candidates) == 2
            and snapshot["order_id"] in found.candidates and re.search(r"(?i)\bother\b", text)):
        return next(c for c in found.candidates if c != snapshot["order_id"])  # "the other mug"
    return others[0] if len(found.order_ids) == 1 and others else None


# "and the mouse too", "same for the other one", "the hat as well", "oh and order 31302 too":
# another order for the same request, on top of the one on offer.
ADDING = re.compile(r"(?i)\b(?:too|as well|also)\b|\bsame (?:for|with|goes for)\b|"
                    r"^\W*(?:oh\W+|ok\W+|okay\W+)?(?:and|plus)\b")


def _fitting(snapshot: dict, orders: list) -> list:
    """The orders the offered action could apply to (not refunded, replaced or a replacement)."""
    fits = {"issue_refund": ("delivered",), "create_replacement": ("delivered",),
            "cancel_order": ("pending", "processing")}.get(snapshot["action"], ())
    return [o for o in orders if o.status in fits and o.refund is None and not o.replaced
            and not o.replacement_for]


def _by_price(text: str, snapshot: dict, orders: list) -> str | None:
    """"No, the cheaper one": among the orders the offered action could apply to."""
    from agents.order_linking import LOW_PRICE, PRICE_REF

    said = PRICE_REF.search(text)
    fits = _fitting(snapshot, orders)
    if not said or len(fits) < 2:
        return None
    pick = (min if LOW_PRICE.match(said.group(1)) else max)(fits, key=lambda o: o.total_cents)
    return pick.id if pick.id != snapshot["order_id"] else None


def _the_other_fitting(snapshot: dict, orders: list) -> str | None:
    """The one other order the offered action could apply to, if there is exactly one."""
    others = [o.id for o in _fitting(snapshot, orders) if o.id != snapshot["order_id"]]
    return others[0] if len(others) == 1 else None


def _same_order_named(text: str, snapshot: dict, orders: list) -> bool:
    """The message only says which order — the one already on offer ("the desk lamp", "the
    pending one")."""
    from agents.requests import CUES

    if text.rstrip().endswith("?") or len(text.split()) > 10:
        return False
    if {i for i, p in CUES if p.search(text)} - {offer_intent(snapshot), "status"}:
        return False
    found = link(text, orders)
    if found.order_ids:
        return found.order_ids == [snapshot["order_id"]]
    if found.unknown_id:
        return False
    if re.search(r"(?i)\bthe (?:one|order)\b", text):
        return True
    said = THE_STATUS_ONE.search(text)
    offered = next((o for o in orders if o.id == snapshot["order_id"]), None)
    return bool(said and offered and STATUS_WORDS[said.group(1).lower()] == offered.status)


def _same_action_asked(u: Understanding, snapshot: dict, orders: list) -> bool:
    """"I'd prefer a new one" while a replacement is on offer: the customer asks, in their own
    words, for the very action offered (no other action, no other order) — the offer stands."""
    from agents.requests import CUES
    from agents.understanding import ACTION_WORDS, asks_for

    intent = offer_intent(snapshot)
    if (intent not in ACTION_WORDS or u.wants_human or len(u.text) > 100
            or u.text.rstrip().endswith("?") or not asks_for(ACTION_WORDS[intent], u.text)):
        return False
    if {i for i, p in CUES if p.search(u.text)} - {intent}:
        return False
    found = link(u.text, orders)
    return not found.unknown_id and set(found.order_ids) <= {snapshot["order_id"]}


def _status_after_yes(text: str, snapshot: dict, orders: list) -> str | None:
    """"yes, and where is my phone case?": a plain yes, then only a where-is question about
    one order. Returns that order's id."""
    from agents.dialogue import PLAIN_YES_FIRST
    from agents.requests import CUES
    from agents.understanding import NEGATION, WHERE_IS

    rest = PLAIN_YES_FIRST.sub("", text, count=1)
    if rest == text or NEGATION.search(rest) or not WHERE_IS.search(rest):
        return None
    if {i for i, p in CUES if p.search(rest)} - {"status"}:
        return None  # another action too: not just a question
    found = link(rest, orders)
    return found.order_ids[0] if len(found.order_ids) == 1 else None


def _new_request_after_no(text: str, snapshot: dict, orders: list) -> bool:
    """"No wait, the socks - cancel those instead": the no drops the offer, and what follows
    it is a request of its own (another action, or another order named), not a refusal."""
    from agents.requests import CUES

    rest = NO_PREFIX.sub("", text, count=1)
    if len(re.findall(r"[a-z]+", rest.lower())) < 2:
        return False
    if {i for i, p in CUES if p.search(rest)} - {offer_intent(snapshot), "status"}:
        return True
    found = link(rest, orders)
    return any(oid != snapshot["order_id"] for oid in found.order_ids)


def _side_question(u: Understanding, snapshot: dict, orders: list) -> bool:
    """A question about the offer itself, not a new request: "how long will it take?",
    "where does the money go?", "is there a fee?"."""
    from agents.requests import CUES

    if u.wants_human or not (u.text.rstrip().endswith("?") or QUESTION_START.match(u.text)):
        return False
    actions = {intent for intent, pattern in CUES if intent != "status" and pattern.search(u.text)}
    if actions - {offer_intent(snapshot)}:
        return False
    found = link(u.text, orders)
    return not found.unknown_id and set(found.order_ids) <= {snapshot["order_id"]}


class OfferTurns:
    """Mixed into SupportAgent (which provides runner, retrieve, _respond, ...)."""

    def _answer_offer(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                      orders: list) -> Step | None:
        """A proposal is waiting (R11): a yes runs it, an acknowledgement asks again, a no
        drops it, anything else drops it and is then handled as itself (None)."""
        proposal_id = turn.state.get("proposal_id")
        if not proposal_id:
            return None
        try:
            snapshot = self.runner.proposal(proposal_id, turn.user_id)
        except ProposalNotFound:
            return None
        if snapshot["state"] != "proposed":
            if snapshot["state"] == "expired" and answer_to_offer(
                    u.text, snapshot["order_id"]) == "yes":
                return self._offer_again(snapshot, ctx, expired=True)  # a yes that came late
            if snapshot["state"] == "confirmed" and answer_to_offer(
                    u.text, snapshot["order_id"]) == "yes":
                # The conversation still points at a confirmed offer only when the turn that
                # confirmed it never finished (the process died between the action and the
                # reply): the client's retry of that yes gets the same result, not "nothing
                # is waiting". Nothing runs again (the proposal holds its result).
                confirmed = self.runner.confirm(proposal_id, ctx)
                return Step(self._confirmed_outcome(confirmed),
                            request_text=turn.state.get("offer_text"), confirmed=proposal_id)
            return None
        answer = answer_to_offer(u.text, snapshot["order_id"])
        if answer == "other" and ADDING.search(u.text) and not NO_PREFIX.match(u.text):
            added = self._added_order(u.text, snapshot, orders)
            if added:
                return self._add_to_offer(turn, snapshot, added, ctx)
        other = _other_order(u.text, snapshot, orders)
        if answer in ("no", "other") and not other:
            other = _by_price(u.text, snapshot, orders)  # "no, the cheaper one"
        if answer in ("no", "other") and not other and OTHER_ONE.search(u.text):
            other = _the_other_fitting(snapshot, orders)  # "no, the other one"
        if answer in ("no", "other") and other:
            return self._switch_order(snapshot, other, ctx)  # "no wait, the mouse"
        asked = _status_after_yes(u.text, snapshot, orders) if answer == "other" else None
        if asked:
            # "yes, and where is my phone case?": the yes confirms the offer; the question is
            # answered alongside instead of dropping the yes.
            try:
                confirmed = self.runner.confirm(proposal_id, ctx)
            except ProposalGone:
                return self._offer_again(snapshot, ctx, expired=True)
            step = Step(self._confirmed_outcome(confirmed),
                        request_text=turn.state.get("offer_text"), confirmed=proposal_id)
            status = self.runner.invoke("get_order_status", replace(ctx, intent="status"),
                                        order_id=asked)
            if status.status == "success":
                step.outcome.extra["suffix"] = ("And your other question: "
                                                + status_text(status.details["order"]))
            return step
        if answer == "no" and _new_request_after_no(u.text, snapshot, orders):
            # "no wait, cancel the socks instead": dropped, and what follows the no is read as
            # a message of its own.
            answer = "other"
            turn.state["read_instead"] = NO_PREFIX.sub("", u.text, count=1)
        if answer == "other" and (_same_order_named(u.text, snapshot, orders)
                                  or _same_action_asked(u, snapshot, orders)):
            answer = "unclear"  # "the desk lamp", "the one that hasn't shipped": yes, that one
        if answer in ("other", "unclear") and DEFER.search(u.text):
            return Step(Outcome(snapshot["intent"], 1.0, snapshot["order_id"],
                                 snapshot["action"], ToolResult(
                                     "needs_confirmation", "R11 confirm: Of course — take your "
                                     f"time. Nothing has changed. {snapshot['summary']} Just "
                                     "reply “yes” when you're ready, or “no” to leave it.",
                                     {"proposal": public_view(snapshot),
                                      "proposal_id": snapshot["id"],
                                      "amount": snapshot["amount"]},
                                     order_id=snapshot["order_id"])),
                         request_text=turn.state.get("offer_text"), keep_offer=True)
        if answer == "other" and _side_question(u, snapshot, orders):
            return self._answer_then_offer_again(turn, u, ctx, orders, snapshot)
        if answer == "yes":
            try:
                confirmed = self.runner.confirm(proposal_id, ctx)
            except ProposalGone:
                return self._offer_again(snapshot, ctx, expired=True)
            return Step(self._confirmed_outcome(confirmed),
                         request_text=turn.state.get("offer_text"), confirmed=proposal_id)
        if answer == "unclear" and not snapshot["expired"]:
            outcome = Outcome(snapshot["intent"], 1.0, snapshot["order_id"], snapshot["action"],
                              ToolResult("needs_confirmation", f"R11 confirm: Just to check: "
                                         f"{snapshot['summary']} Shall I go ahead?",
                                         {"proposal": public_view(snapshot),
                                          "proposal_id": snapshot["id"],
                                          "amount": snapshot["amount"]},
                                         order_id=snapshot["order_id"]))
            return Step(outcome, request_text=turn.state.get("offer_text"), keep_offer=True)
        why = "the customer said no" if answer == "no" else "the customer wrote something else"
        self.runner.drop(proposal_id, ctx, why)
        if answer == "no":
            return self._declined(snapshot)
        turn.state["dropped_offer"] = snapshot  # "ok replace it then": what it was about holds
        return None

    def _answer_then_offer_again(self, turn: records.Turn, u: Understanding, ctx: ToolContext,
                                 orders: list, snapshot: dict) -> Step:
        """A question about the offer ("how long will the money take?") is answered, and the
        offer is checked and stated again, so the yes that follows completes the request."""
        self.runner.drop(snapshot["id"], ctx, "the customer asked a question first")
        said = None
        if TIME_LEFT.search(u.text) and not OFFER_ITSELF.search(u.text):
            # "how long do I have?": the window for this order and its last day, from the
            # same check the action uses.
            facts = self.runner.invoke("check_eligibility", replace(
                ctx, intent=offer_intent(snapshot), propose=False),
                order_id=snapshot["order_id"], purpose=offer_intent(snapshot))
            if facts.status == "success" and facts.details.get("eligible"):
                said = fact_answer(u.text, plain(facts.reason), facts, offer=False)
        if not said and WHEN_DID.search(u.text):
            # "wait, when was it ordered?": the order's own dates, not a policy sentence.
            facts = self.runner.invoke("get_order_status", replace(ctx, intent="status"),
                                       order_id=snapshot["order_id"])
            if facts.status == "success":
                said = status_text(facts.details["order"])
        sources = self.retrieve(offer_intent(snapshot), as_policy_query(u.text), k=2)
        said = said or self._best_sentence(u.text, " ".join(s["text"] for s in sources),
                                           floor=0.35)
        if not said:
            side = self._answer_message(turn, u, ctx, orders, offering=True)
            said = self._respond(turn, side.understanding or u, side.outcome,
                                 side.mode)["response"]
        again = self._offer_again(snapshot, ctx, expired=False)
        if again.outcome.result.status == "needs_confirmation":
            again.outcome.extra["prefix"] = f"{said} Back to your request: "
        again.request_text = turn.state.get("offer_text")
        return again

    def _added_order(self, text: str, snapshot: dict, orders: list) -> str | None:
        """The other order an addition names: by number or item, "the other one", or failing
        those the item closest in meaning ("the hat" = the wool beanie)."""
        from agents.requests import CUES

        if {i for i, p in CUES if p.search(text)} - {offer_intent(snapshot)} or len(text) > 80:
            return None  # another action: a request of its own
        found = link(text, orders)
        others = [oid for oid in found.order_ids if oid != snapshot["order_id"]]
        if others:
            return others[0]
        if found.unknown_id:
            return found.unknown_id
        if OTHER_ONE.search(text) or re.search(r"(?i)\bthe other\b", text):
            return _the_other_fitting(snapshot, orders)
        rest = [o for o in orders if o.id != snapshot["order_id"]]
        words = re.sub(r"(?i)\b(?:oh|and|plus|too|as well|also|same (?:for|with)|the|my|please|"
                       r"pls)\b", " ", text).strip(" .,!?")
        return self._closest_item(words, rest) if len(words) >= 3 else None

    def _add_to_offer(self, turn: records.Turn, snapshot: dict, order_id: str,
                      ctx: ToolContext) -> Step:
        """Keep the offer on the table; check the added order with the guard's dry run and, if
        it qualifies, keep it for right after (one action at a time, R8)."""
        intent = offer_intent(snapshot)
        facts = self.runner.invoke("check_eligibility", replace(ctx, intent=intent,
                                                                propose=False),
                                   order_id=order_id, purpose=intent)
        todo = []
        if facts.status == "success" and facts.details.get("eligible"):
            todo = [{"intent": intent, "order_id": order_id, "reason": snapshot.get("reason")}]
            said = (f"Sure — I'll do order #{order_id} right after this one (one thing at a "
                    "time). First: ")
        else:
            why = plain(facts.reason)
            said = f"{why} Your first request still stands: "
        outcome = Outcome(snapshot["intent"], 1.0, snapshot["order_id"], snapshot["action"],
                          ToolResult("needs_confirmation", f"R11 confirm: {snapshot['summary']} "
                                     "Shall I go ahead?",
                                     {"proposal": public_view(snapshot),
                                      "proposal_id": snapshot["id"],
                                      "amount": snapshot["amount"]},
                                     order_id=snapshot["order_id"]))
        outcome.extra.update(prefix=said, several=True,
                             todo=todo or Dialogue.from_state(turn.state).todo)
        return Step(outcome, request_text=turn.state.get("offer_text"), keep_offer=True)

    def _switch_order(self, snapshot: dict, order_id: str, ctx: ToolContext) -> Step:
        self.runner.drop(snapshot["id"], ctx, "the customer meant another order")
        again = self._offer_again({**snapshot, "order_id": order_id}, ctx, expired=False)
        if again.outcome.result.status == "needs_confirmation":
            again.outcome.extra["prefix"] = (f"OK — not order #{snapshot['order_id']}; nothing "
                                             "has changed there. ")
        return again

    def _offer_again(self, snapshot: dict, ctx: ToolContext, expired: bool) -> Step:
        """The yes came after the offer expired: check again now and make a fresh offer."""
        args = {"order_id": snapshot["order_id"]}
        if snapshot["action"] == "create_replacement":
            args["reason"] = snapshot.get("reason")
        result = self.runner.invoke(snapshot["action"], replace(
            ctx, confidence=1.0, intent=snapshot["intent"], propose=True), **args)
        outcome = Outcome(snapshot["intent"], 1.0, result.order_id or snapshot["order_id"],
                          snapshot["action"], result)
        if expired:
            outcome.extra["prefix"] = ("That offer had expired, so I checked your order again. "
                                       if result.status == "needs_confirmation" else
                                       "That offer had expired and things have changed since. ")
        return Step(outcome)

    def _confirmed_outcome(self, confirmed: Confirmed) -> Outcome:
        p = confirmed.proposal
        return Outcome(p["intent"], 1.0, confirmed.result.order_id or p["order_id"], p["action"],
                       confirmed.result)

    def _declined(self, snapshot: dict) -> Step:
        step = self._declined_step(snapshot)
        step.remember = {"declined_offer": {k: snapshot.get(k) for k in (
            "action", "order_id", "intent", "reason", "summary")}}
        return step

    def _declined_step(self, snapshot: dict) -> Step:
        what = {"issue_refund": "refunded", "cancel_order": "cancelled",
                "create_replacement": "replaced"}.get(snapshot["action"], "changed")
        return Step(Outcome(snapshot["intent"], 1.0, snapshot["order_id"], "none", ToolResult(
            "success", f"R11 confirm: no problem — I haven't {what} order "
                       f"#{snapshot['order_id']}; nothing has changed.", {"declined": True},
            order_id=snapshot["order_id"])))

