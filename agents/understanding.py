"""Offline language understanding: what the customer wants, about which order, and how they feel.

The classifier gives the intent and its probability; a few explicit signals
refine it, because a probability cannot see them: an explicit request for a
person, strong frustration, explicit "refund" versus "replace" wording, and
hedging ("maybe", "thinking about") which lowers confidence so R10 asks first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents import entities
from agents.entities import Frustration
from agents.intent_model import IntentModel

ACTION_INTENTS = ("refund", "cancel", "replacement")
REFUND_WORDS = re.compile(r"(?i)\b(?:refund\w*|money back|reimburs\w*|my money|repay\w*|"
                          r"pay me back|credit (?:me|my card))\b")
REPLACE_WORDS = re.compile(r"(?i)\b(?:replac\w*|new one|another one|exchange|swap|"
                           r"send (?:me )?(?:a )?(?:new|another|correct|right)|re-?send|"
                           r"right (?:one|size|item)|correct (?:one|size|item))\b")
HEDGE = re.compile(r"(?i)\b(?:maybe|perhaps|might|thinking (?:about|of)|considering|"
                   r"not sure|unsure|should i|wondering (?:if|whether)|in case|what if)\b")
QUESTION_START = re.compile(r"(?i)^\s*(?:how|what|when|can i|can you|do you|does|is it|is there|"
                            r"are|will|would|which|where can|who)\b")
GREETING = re.compile(r"(?i)^\s*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|"
                      r"greetings|yo|howdy)\b[\s!.,]*$")
THANKS = re.compile(r"(?i)\b(?:thanks?|thank you|thx|ty|cheers|appreciate it|great|perfect|"
                    r"awesome)\b")
AFFIRM = re.compile(r"(?i)^\s*(?:yes|yeah|yep|yup|y|sure|correct|right|confirm(?:ed)?|"
                    r"please do|do it|go ahead|ok(?:ay)?|that'?s (?:right|correct)|"
                    r"absolutely|definitely|please)\b")
DENY = re.compile(r"(?i)^\s*(?:no|nope|nah|never ?mind|cancel that|don'?t|stop|forget it)\b")


@dataclass
class Understanding:
    text: str
    intent: str
    confidence: float
    order_id: str | None
    reason: str | None
    frustration: Frustration
    wants_human: bool
    requested_intent: str  # what they asked for, before escalation overrode it
    probabilities: dict[str, float] = field(default_factory=dict)
    signals: list[str] = field(default_factory=list)

    @property
    def affirmative(self) -> bool:
        return bool(AFFIRM.match(self.text)) and len(self.text) <= 60

    @property
    def negative(self) -> bool:
        return bool(DENY.match(self.text)) and len(self.text) <= 60

    @property
    def is_greeting(self) -> bool:
        return bool(GREETING.match(self.text))

    @property
    def is_thanks(self) -> bool:
        return bool(THANKS.search(self.text)) and len(self.text) <= 80


class OfflineNLU:
    def __init__(self, embedder, model: IntentModel):
        self.embedder = embedder
        self.model = model

    def understand(self, text: str) -> Understanding:
        probs = self.model.predict_many(self.embedder.encode([text]))[0]
        return refine(text, probs)


def refine(text: str, probs: dict[str, float]) -> Understanding:
    intent = max(probs, key=probs.get)
    confidence = probs[intent]
    signals: list[str] = []
    mood = entities.frustration(text)
    human = entities.wants_human(text)

    refund_words, replace_words = REFUND_WORDS.search(text), REPLACE_WORDS.search(text)
    asks_question = QUESTION_START.match(text) or text.rstrip().endswith("?")
    if intent == "replacement" and refund_words and not replace_words and not asks_question:
        intent, confidence = "refund", max(probs.get("refund", 0), 0.75)
        signals.append("explicit refund wording")
    elif intent == "refund" and replace_words and not refund_words and not asks_question:
        intent, confidence = "replacement", max(probs.get("replacement", 0), 0.75)
        signals.append("explicit replacement wording")

    if intent in ACTION_INTENTS and HEDGE.search(text):
        confidence *= 0.55
        signals.append("hedged")

    requested = intent
    if human:
        intent, confidence = "escalate", max(probs.get("escalate", 0), 0.95)
        signals.append("asked for a person")
    elif mood.very_frustrated:
        intent, confidence = "escalate", max(probs.get("escalate", 0), 0.9)
        signals.append("very frustrated")

    return Understanding(
        text=text, intent=intent, confidence=round(float(confidence), 4),
        order_id=entities.extract_order_id(text), reason=entities.extract_reason(text),
        frustration=mood, wants_human=human, requested_intent=requested,
        probabilities={k: round(v, 4) for k, v in probs.items()}, signals=signals)
