"""Greetings and thanks are answered by the portal itself, so "hi" and "thanks!" never open a
ticket (nobody needs a case number for a hello).

Only a message that is *nothing but* a greeting or thanks counts: "hi, refund order 1042"
goes to the assistant. Inside a conversation with a question or an offer open, even a bare
"thanks" goes to the assistant, which restates the offer (SPEC R11: an acknowledgement is not
a yes), so the customer is never left unsure whether something was done.
"""

from __future__ import annotations

import re

_GREETING = (r"(hi|hello|hey|hiya|howdy|yo|good (morning|afternoon|evening|day)|greetings|"
             r"hola|bonjour|hallo)( there| team| all| everyone)?")
_THANKS = (r"(thanks?( you)?( so much| very much| a lot| again)?|thank u|thx|ty|cheers|"
           r"many thanks|much appreciated|appreciate it|great|perfect|awesome|cool|"
           r"ok(ay)?|got it|that'?s (all|it|great|perfect))")
_BYE = r"(bye|goodbye|see you|have a (nice|good|great) day)"
_WORD = rf"(({_GREETING})|({_THANKS})|({_BYE}))"
_SMALL_TALK = re.compile(rf"^\s*({_WORD}[\s,.!?:;)(\-]*)+\s*$", re.IGNORECASE)
_THANKS_ONLY = re.compile(rf"^\s*(({_THANKS}|{_BYE})[\s,.!?:;)(\-]*)+$", re.IGNORECASE)

GREETING_REPLY = ("Hi{name}! Tell us what you need in your own words — for example “where is my "
                  "order?” or “my blender arrived broken” — and we'll sort it out.")
# The thanks reply agrees with the status badge beside it: a resolved request is called
# resolved (never "stays open"), and writing again is always possible.
THANKS_REPLIES = {
    None: "You're welcome{name}! If anything else comes up, just tell us here.",
    "resolved": ("You're welcome{name}! This request is resolved. If anything else comes up, "
                 "write below and we'll pick it up again."),
    "closed": ("You're welcome{name}! This request is closed. If anything else comes up, "
               "write below and we'll pick it up again."),
    "open": ("You're welcome{name}! This request is still open: write below whenever you're "
             "ready."),
}


def is_small_talk(text: str) -> bool:
    return bool(text) and len(text) <= 80 and bool(_SMALL_TALK.match(text))


def reply_to(text: str, first_name: str | None = None, status: str | None = None) -> str:
    """`status`: the ticket the thanks is written in (None on a new request: no ticket)."""
    name = f", {first_name}" if first_name else ""
    if not _THANKS_ONLY.match(text or ""):
        return GREETING_REPLY.format(name=name)
    return THANKS_REPLIES.get(status, THANKS_REPLIES["open"]).format(name=name)
