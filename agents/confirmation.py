"""Is a message a yes to the offer on the table, a no, or something else? (SPEC R11)

Money moves only on a yes, so a yes must be unmistakable: it starts with a yes word and
carries nothing that hedges or changes the request ("yes but only $5", "yes, for order
1043 instead" are not yeses to this offer). A bare acknowledgement ("thanks", "great")
is neither: the offer is stated again and the customer asked once more.
"""

from __future__ import annotations

import re
from typing import Literal

Answer = Literal["yes", "no", "unclear", "other"]

STRONG_YES = re.compile(
    r"(?i)^\s*(?:(?:great|perfect|awesome|cool|ok(?:ay)?|fine|alright|actually|oh|well|then|so|"
    r"right)[,!.\s]+)*(?:yes+|yeah|yea|yep|yup|ya|ye|yeh|yh|yah|yass*|aye|sure|please do|do it|"
    r"go ahead|go for it|proceed|"
    r"bet|say less|let'?s go|sure thing|for sure|yes sir|yessir|affirmative|sounds good|👌|"
    r"confirm(?:ed)?|absolutely|definitely|of course|let'?s do it|i confirm|yes please|ok(?:ay)? "
    r"(?:do it|go ahead|please|please do|proceed|confirm(?:ed)?)|(?:👍|✅)+)(?![\w'])")
WEAK_YES = re.compile(
    r"(?i)^\s*(?:ok(?:ay)?|k|kk|alright|all right|fine|right|correct|that'?s (?:right|correct|"
    r"fine)|sounds good|please|y)(?![\w'])")
# Anything that hedges, refuses or changes what was offered.
CHANGES = re.compile(
    r"(?i)\b(?:but|wait|hold on|hang on|not|don'?t|do not|no|nope|instead|rather|actually|only|"
    r"partial|half|just|except|other|different|another|cancel that|stop|never ?mind|later|"
    r"unless|if|maybe|hmm+|what|how|why|when|where|which)\b|\?|\$|€|£")
# What may follow a yes word without changing it.
FILLER = frozenset("""please pls plz thanks thank thanks! you thx ty cheers go ahead do it that
would be great good perfect lovely fine sounds yes yeah sure ok okay proceed confirm confirmed
with the refund cancellation cancel replacement replace this that one it and a lot much very
kindly sir madam mate lol asap now right away straight""".split())
NO = re.compile(
    r"(?i)^\s*(?:(?:wait|hold on|hang on|actually|hmm+|oh|sorry|erm|um|ok|okay)[,.!\s]+"
    r"(?:actually[,\s]+)?)?"
    r"(?:no+\b(?![\s.:#,;-]*#?\d)|nope|nah|never ?mind|nevermind|not now|not yet|"
    r"maybe later|later|don'?t\b|do not\b|stop\b|forget it|hold off|no thanks|"
    r"no thank you|leave it|i changed my mind|changed my mind|not needed)")
ORDER_NUMBER = re.compile(r"(?<![\w$€£.])#?\s?([A-Za-z]{0,4}-?\d{1,12}(?:-[A-Za-z0-9]{1,8})?)\b")


def _rest_is_filler(text: str, prefix: re.Pattern) -> bool:
    rest = prefix.sub("", text, count=1)
    words = re.findall(r"[a-z']+", rest.lower())
    return all(w in FILLER for w in words)


# "Shall I go ahead? yes": the customer quotes our question back before answering it.
QUOTED_QUESTION = re.compile(r"(?i)^\W*(?:shall i go ahead|should i go ahead|go ahead\?)\W*")


def answer_to_offer(text: str, order_id: str | None = None) -> Answer:
    """`yes`, `no`, `unclear` (an acknowledgement: ask again) or `other` (a new message)."""
    text = QUOTED_QUESTION.sub("", text.strip(), count=1) or text.strip()
    if len(text) > 120:
        return "other"
    numbers = [n for n in ORDER_NUMBER.findall(text) if any(c.isdigit() for c in n)]
    if numbers and (order_id is None
                    or any(n.lstrip("#").lower() != order_id.lower() for n in numbers)):
        return "other"  # an order named with nothing on offer, or another order: a request
    if NO.match(text):
        return "no"
    if STRONG_YES.match(text) and not CHANGES.search(STRONG_YES.sub("", text, count=1)):
        return "yes"
    if WEAK_YES.match(text) and not CHANGES.search(text) and _rest_is_filler(text, WEAK_YES):
        return "yes"
    words = re.findall(r"[a-z']+", text.lower())
    if words and len(words) <= 4 and all(w in FILLER or w in ("cool", "nice", "awesome",
                                                               "hmm", "hm", "oh", "ah")
                                         for w in words):
        return "unclear"
    return "other"
