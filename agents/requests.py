"""Several requests in one message: "cancel 31003 and where is 31004?", "refund the sweater
and the beanie", "refund 31201, cancel 31204 and where's 31203".

The message is cut where a new request starts (a new action or status word after "and",
a comma, "also", a full stop), each piece is tied to its orders, and one request per
order is returned in the customer's order. The brain then acts on (proposes) the first
clear, eligible action, answers status questions alongside, and names what is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.entities import extract_reason
from agents.order_linking import FOCUS_REF, Link, link
from agents.shop_view import OrderFact
from agents.understanding import HEDGE, INFO_QUESTION, NEGATION, NOT_A_REQUEST

CUES: tuple[tuple[str, re.Pattern], ...] = (
    ("refund", re.compile(r"(?i)\b(?:refund\w*|money back|reimburs\w*|return(?:ing|ed)?\b|"
                          r"send (?:it|them|em|(?:the |my |this |that |these |those )?[\w-]+(?: [\w-]+)?) back\b|"
                          r"send back\b|give (?:it |them )?back)")),
    ("cancel", re.compile(r"(?i)\bcancel\w*")),
    ("replacement", re.compile(r"(?i)\b(?:replac\w*|exchange\w*|swap\b|send (?:me )?(?:a )?"
                               r"(?:new|another)|(?:want|need|like|get|have)(?: me| us)?"
                               r"(?: a| some)? (?:new|fresh|working) (?:one|ones|pair|set)\b)")),
    ("status", re.compile(r"(?i)\b(?:where(?:'s| is| are)?|track\w*|status|(?:shipped|arrived|"
                          r"here|delivered) yet|has (?:it|\w+) (?:shipped|arrived)|"
                          r"when (?:will|does|do|is|are)\b[^.?!,]{0,40}?\b(?:arriv|ship|come|"
                          r"get here|deliver)\w*)")),
)
# "the replacement headphones you sent", "my replacement": an order, not a request for one.
REPLACEMENT_ORDER = re.compile(r"(?i)\b(?:the|my|your|this|that|these|those)\s+$")
# Where a second request may start; a sentence end or "also" is where it most surely starts.
STRONG_JOIN = re.compile(r"(?i)(?:[;.?!]\s+|\s+(?:also|and also|plus)\s+)")
JOINS = re.compile(r"(?i)(?:[,;.?!]\s*|\s*[+&]\s*|\s+(?:and|also|plus|then)\s+|\s+and also\s+)")
# A question about an action ("is the baby monitor still refundable?") is answered, not done.
QUESTION = re.compile(r"(?i)^\s*(?:and\s+|also\s+|but\s+)?(?:is|are|can i|could i|would|will|"
                      r"do you|does|how much|how long|until when)\b|refundable|cancell?able|"
                      r"\bstill (?:be )?(?:refund|cancel|return)")


# "refund the mouse and also order 33901": a second order, not the item's number.
ALSO = re.compile(r"(?i)\b(?:and|also|plus|too|as well)\b|&|\+")


@dataclass
class Request:
    intent: str
    text: str
    link: Link
    question: bool = False
    reason: str | None = None

    @property
    def order_id(self) -> str | None:
        return self.link.order_ids[0] if self.link.order_ids else self.link.unknown_id


def _is_question(text: str) -> bool:
    return bool(QUESTION.search(text) or INFO_QUESTION.match(text) or HEDGE.search(text))


def _cues(text: str) -> list[tuple[int, str]]:
    """Where each request starts. An action named only in the negative ("I never asked you to
    cancel…", "why did you refund…?") starts none."""
    complaints = [m.span() for m in NOT_A_REQUEST.finditer(text)]
    found = []
    for intent, pattern in CUES:
        for m in pattern.finditer(text):
            if intent != "status" and (
                    NEGATION.search(text[max(0, m.start() - 80):m.start()])
                    or any(a <= m.start() < b for a, b in complaints)):
                continue
            if (intent == "replacement" and m.group(0).lower().startswith("replacement")
                    and REPLACEMENT_ORDER.search(text[max(0, m.start() - 12):m.start()])):
                continue
            found.append((m.start(), intent))
    found.sort()
    # "return" inside "refund or return" or a repeat of the same intent is one request.
    merged: list[tuple[int, str]] = []
    for pos, intent in found:
        if merged and merged[-1][1] == intent:
            continue
        merged.append((pos, intent))
    return merged


def _pieces(text: str, cues: list[tuple[int, str]],
            names_an_order=None) -> list[tuple[str, str]]:
    """Cut the text before each cue after the first, at the last join in between. Two cues
    with no join between them ("my money back or a replacement") are one request.

    `names_an_order(fragment)`: when given and the piece from the last join names no order
    ("…, I need a new one"), the cut moves back to the latest earlier join after which the
    piece does name one while the piece before still does too: "cancel the headphones and the
    blender is cracked, I need a new one" is the headphones' cancellation and the blender's
    replacement."""
    cuts, kept = [0], [cues[0]]
    for (prev, _), cue in zip(cues, cues[1:], strict=False):
        joins = [m.end() for m in JOINS.finditer(text, prev, cue[0])]
        strong = [m.end() for m in STRONG_JOIN.finditer(text, prev, cue[0])]
        if joins:
            # "cancel X. also the tea set has a chip, want a new one": the request starts at
            # "also", not at the comma just before its verb.
            cut = strong[-1] if strong else joins[-1]
            end = cue[0] + 40
            if names_an_order is not None and not strong and not names_an_order(text[cut:end]):
                cut = next((j for j in reversed(joins[:-1])
                            if names_an_order(text[j:end]) and names_an_order(text[cuts[-1]:j])),
                           cut)
            cuts.append(cut)
            kept.append(cue)
    cuts.append(len(text))
    return [(text[a:b].strip(" ,;&"), intent)
            for (a, b), (_, intent) in zip(zip(cuts, cuts[1:], strict=False), kept, strict=False)]


def split(text: str, orders: list[OrderFact], listed: list[str] | None = None,
          focus: str | None = None) -> list[Request]:
    """Several requests, one per order, in the customer's order; [] when the message holds
    one request about at most one order (the usual case, handled whole)."""
    cues = _cues(text)
    intents = {intent for _, intent in cues}
    if len(intents) < 2:
        whole = link(text, orders, listed, focus)
        links = [Link([oid], how=whole.how) for oid in whole.order_ids]
        if whole.unknown_id and links:
            if not ALSO.search(text):
                # "refund my blanket, order 30199": the number says which order the item is,
                # and it is not one of theirs, so that is the answer (never the item's order).
                return []
            links.append(Link([], how="number", unknown_id=whole.unknown_id))  # "… and 33901"
        if len(cues) == 1 and len(links) > 1:
            question = _is_question(text)
            return [Request(cues[0][1], text, found, question, extract_reason(text))
                    for found in links]
        return []
    pieces = _pieces(text, cues, lambda part: bool(link(part, orders, listed, focus).order_ids))
    if len(pieces) < 2 and len(link(text, orders, listed, focus).order_ids) < 2:
        return []
    requests: list[Request] = []
    for piece, intent in pieces:
        found = link(piece, orders, listed, focus)
        if (requests and not (found.order_ids or found.candidates or found.unknown_id)
                and FOCUS_REF.search(piece)):
            found = requests[-1].link  # "the headphones are broken, refund them"
        question = _is_question(piece)
        reason = extract_reason(piece) or extract_reason(text)
        if len(found.order_ids) > 1:
            requests += [Request(intent, piece, Link([oid], how=found.how), question, reason)
                         for oid in found.order_ids]
        else:
            requests.append(Request(intent, piece, found, question, reason))
    return requests if len(requests) > 1 else []
