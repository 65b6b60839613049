"""Offline language understanding: what the customer wants, about which order, and how they feel.

The classifier gives the intent and its probability; a few explicit signals
refine it, because a probability cannot see them: an explicit request for a
person, strong frustration, explicit "refund" versus "replace" wording, and
hedging ("maybe", "thinking about") which lowers confidence so R10 asks first.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from agents import entities
from agents.entities import Frustration
from agents.intent_model import IntentModel

ACTION_INTENTS = ("refund", "cancel", "replacement")
REFUND_WORDS = re.compile(r"(?i)\b(?:refund\w*|money back|cash back|reimburs\w*|my money|repay\w*|"
                          r"pay me back|credit (?:me|my card)|money returned|"
                          r"(?:want|like|need|wanna) to (?:send (?:it|them|this|these|the \w+|my \w+) "
                          r"back|give (?:it|them|this|these|the \w+(?: \w+)?|my \w+(?: \w+)?) back|"
                          r"return (?:it|them|this|these|the|my|something|an? \w+))|send (?:it|them) back|"
                          r"give (?:it |them )?back|send back\b(?! (?:a|an|another|the right|the "
                          r"correct) )|send (?!me\b|us\b|you\b|a\b|an\b|another\b)(?:the |my |this |"
                          r"that |these |those )?[\w-]+(?: [\w-]+)? back)\b"
                          # "return the blender", "pls return order 2002": returning is a refund
                          r"|^\W*(?:(?:please|pls|plz|kindly|i'?d like to|i want to)\s+)?return\s+"
                          r"(?:it|them|this|that|these|those|the|my|order|#?\d)\b"
                          # "I only want $9 back", "give me $4.50 back", "10 dollars back":
                          # money asked for, part of it or not (R2 makes it the whole order).
                          r"|(?:[$€£]\s?\d[\d,]*(?:\.\d{1,2})?|\b\d[\d,]*(?:\.\d{1,2})?\s?(?:dollars?|"
                          r"bucks|euros?|pounds?|quid|%|percent)|\bhalf|\bsome money|\bpart of (?:it|the money))"
                          r" back\b")
REPLACE_WORDS = re.compile(r"(?i)\b(?:replac\w*|new one|another one|exchange|swap|"
                           r"send (?:me )?(?:a )?(?:new|another|correct|right)|re-?send|"
                           r"right (?:one|size|item)|correct (?:one|size|item)|"
                           r"(?:want|need|like|get) (?:a |an )?(?:new|fresh|working) [a-z]+)\b")
# "I don't want a replacement", "rather have X than another one": the words name what they
# do NOT want, so they must not count as asking for it.
NEGATION = re.compile(
    r"(?i)(?:\b(?:don'?t|do not|doesn'?t|didn'?t|did not|not|no|never|without)\s+(?:(?:want|"
    r"wanted|need|needed|like|interested|in|looking|asking|asked|ask|request|requested|told|tell|"
    r"say|said|for|send|sending|get|getting|a|an|the|another|any|me|you|u|to|really|bother|"
    r"bothering|with|ever)\s+){0,4}|\b(?:rather than|instead of|than|over)\s+(?:(?:a|an|the|another|my|"
    r"getting|get)\s+){0,2})$")
# Not a request at all: a complaint about something done ("why did you cancel order 21103??")
# or a request taken back ("I was going to ask for a refund but never mind, it works now").
NOT_A_REQUEST = re.compile(
    r"(?i)\b(?:why (?:did|have|has|would) (?:you|u|they|someone|it) (?:\w+ ){0,2}"
    r"(?:cancel|refund|replac)\w*|who (?:cancell?ed|refunded)|"
    r"you (?:have |just |already )?(?:cancell?ed|refunded|replaced)\b|"
    r"\b(?:was|has|is|were|have) (?:it|this|that|my order|the order|they|these|those) "
    r"(?:been |already |just )?(?:cancell?ed|refunded|replaced)\b|"
    r"never ?mind|nevermind|forget it|scratch that|"
    r"(?:it'?s|it is|all) (?:fine|ok|okay|good|sorted) now|(?:it )?works now|"
    r"(?:sorted|figured) it out|resolved itself|no longer (?:need|want) (?:a|the|to))")
# "Can you cancel A-100?", "could you please refund 1042": a polite request, not a question.
POLITE_ACTION = re.compile(
    r"(?i)^\s*(?:(?:hi|hello|hey|actually|so|ok|okay|then)\b[\s,!.]*)*(?:can|could|would|will) "
    r"(?:you|u) (?:please |pls |kindly |just )?(?:(?:send|give|issue|process|arrange|do|get|make)"
    r" (?:me )?(?:an? |the |my )?)?(cancel|refund|replacement|replace|exchange)\b")
POLITE_INTENT = {"cancel": "cancel", "refund": "refund", "replace": "replacement",
                 "replacement": "replacement", "exchange": "replacement"}
HEDGE = re.compile(r"(?i)\b(?:maybe|perhaps|might|thinking (?:about|of)|considering|"
                   r"not sure|unsure|should i|wondering (?:if|whether)|in case|what if|"
                   r"hypothetically|(?:if|once|when) (?:i|it|the|they|my|this)\b[^?]*\?)")
# A request, not a question about how things work: what lets explicit action words overrule
# a vague classifier reading ("I'd like to return my jersey" is no policy question).
REQUEST_PHRASING = re.compile(r"(?i)^\s*(?:want|wanna|need|gonna) to\b|\b(?:i(?:'d| would)? "
                              r"(?:like|want|need|wanna)|i'm (?:going|trying)"
                              r" to|please|pls|plz|give me|get me|send me|i demand|just|"
                              r"(?:can|could) (?:i|you)|let me|gonna)\b|(?:^|[,.!?;]\s*|\band\s+)"
                              r"(?:please\s+)?(?:refund|cancel|return|replace|exchange|swap|stop)\b")
POLICY_WORDS = re.compile(r"(?i)\b(?:polic(?:y|ies)|rules?|terms|conditions|info(?:rmation)?|"
                          r"details|know|explain|options?|process|procedure|how (?:do|does|can|"
                          r"long|much)|what (?:is|are|happens)|fees?|deadline|allowed|situations?|"
                          r"cases|circumstances|check|possible|eligib\w*|in which|in what|"
                          r"account|subscription|newsletter|membership|plan|profile|freemium|"
                          r"premium)\b")
# "refund order 30501 and tell me how long…": an order, named right after the verb.
IMPERATIVE_ORDER = re.compile(r"(?i)^\s*(?:please\s+)?(?:refund|cancel|replace|return)\b"
                              r"[^.?!]{0,15}?\d{3,}")
CAPABILITY = re.compile(r"(?i)\b(?:what (?:can|do) you (?:do|help with)|what do you do|how can "
                        r"you help|what are you|who are you|are you a (?:bot|robot|human|person)|"
                        r"what can i ask|^\W*(?:so |ok |okay )?(?:what (?:can|do) i do|what are my "
                        r"options)\W*$)")


# Calling the shop thieves ("this is theft", "you're stealing my money") and demanding a person
# at once ("a manager NOW", "right now"): signs of a very frustrated customer that the mood score
# (agents.entities) does not count; with its other signs they make R6's "very frustrated".
ACCUSATION = re.compile(
    r"(?i)\b(?:(?:this|that|it)(?:'s| is| was) (?:(?:just|basically|literally|pure|plain|"
    r"outright|daylight|nothing but|a) )*(?:theft|robbery|stealing|fraud|extortion|"
    r"a (?:rip-?off|con|scam))|(?:you(?:'re| are)?|you guys|you people|your (?:company|shop|"
    r"store|lot)|u r|ur)\s+(?:\w+ )?(?:steal\w*|stole|robb\w*|rob|ripp\w* (?:me|us|people) off|"
    r"scamm\w*|thie(?:f|ves)|crooks|criminals|frauds?)|kept my money|stole my money)\b")
DEMAND_NOW = re.compile(r"\b(?:NOW|ASAP|IMMEDIATELY|RIGHT AWAY)\b|(?i:\bright now\b|"
                        r"\bimmediately\b|\bthis instant\b)")


def mood_of(text: str) -> Frustration:
    mood = entities.frustration(text)
    signals, score = list(mood.signals), mood.score
    if ACCUSATION.search(text):
        signals.append("accuses us of theft")
        score += 1.0
    if DEMAND_NOW.search(text) and (score > mood.score or (
            mood.frustrated and entities.wants_human(text))):
        # "a manager NOW": only with an accusation or a person demanded — "CANCEL IT RIGHT
        # NOW!!" is an urgent request, handled as one.
        signals.append("demands it now")
        score += 0.5
        if mood.frustrated and entities.wants_human(text):
            # "This is ridiculous… I need a real human NOW": angry words and a person demanded
            # at once are plainly a very frustrated customer (R6: high priority).
            score = max(score, 2.5)
    if score == mood.score:
        return mood
    return Frustration(round(score, 2), tuple(signals))


NO_PERSON_WANTED = re.compile(r"(?i)\b(?:no need|don'?t need|do not need|don'?t want|without)\b"
                              r"[^.?!]{0,25}\b(?:person|human|agent|someone|manager|people)\b")


def clear_request(text: str) -> bool:
    """One sentence of the message plainly asks for an action ("I want my money back."), so a
    question or a hedge elsewhere in it does not make the whole message a question."""
    for sentence in re.split(r"(?<=[.!])\s+|\n+", text):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?") or HEDGE.search(sentence):
            continue
        if REQUEST_PHRASING.search(sentence) and any(
                asks_for(words, sentence) for words in ACTION_WORDS.values()):
            return True
    return False


# "where is it", "still not here", "hasn't arrived": asking where an order is.
WHERE_IS = re.compile(r"(?i)\b(?:where(?:'s| is| are| the (?:hell|heck|f\w*) is| on earth is)\b|whr\b|when did\b[^?.!]{0,40}\b(?:arrive|ship|"
                      r"get delivered|come)|(?:has|have|did)\b[^?.!]{0,40}\b(?:arrived?|shipped|"
                      r"been delivered|ship)\b|still (?:not|isn'?t|hasn'?t|haven'?t) "
                      r"(?:here|arrived|come|shipped|delivered)|(?:hasn'?t|haven'?t|not) "
                      r"(?:arrived|come|shown up|been delivered)|when will\b[^?.!]{0,40}\b"
                      r"(?:arrive|get here|ship|come)|track(?:ing)?\b|shipped yet|arrived yet)")
# "whr", "wher": where, as typed on a phone.
WHERE_SHORT = re.compile(r"(?i)\b(?:whr|wher|whre|wheres)\b")
# What a bare "where is it?" may say besides the item: "my helmet??", "the helmet order?? whr".
BARE_WORDS = frozenset("""
my the a an order orders package parcel it is its still yet now where wheres whr wher whre
status update any news on of and so um hmm hey hi
""".split())
# A question about how an action works ("what's the refund window for order 1042?", "would I
# get a refund if I sent it back?") is not a request to act: R10 asks before doing anything.
# Polite requests ("can I get a refund…?", "could you cancel…?") are not in this list.
INFO_QUESTION = re.compile(
    r"(?i)^\s*(?:(?:so|and|but|ok|okay|hi|hello|hey|quick question)[,:\s]+)?"
    r"(?:what(?:'s| is| are| was| happens| would)|how (?:long|many|much|soon|quickly|does)|"
    r"when (?:will|would|do|does)|would (?:i|it|that|a|my)|will (?:i|it|that|a|my)|"
    r"is (?:it|there|this|that|order|my)|are (?:there|refunds|replacements)|does|do i|if (?:i|we)|"
    r"can i still|could i still|am i still|is it (?:too late|still possible)|until when|by when|"
    r"(?:is it |would it be )?still (?:possible|in time|ok(?:ay)?) to|"
    r"how much (?:would|will|do)|what happens if|is \d+|is (?:the|my) \w+(?: \w+)? (?:still )?"
    r"(?:refundable|returnable|cancell?able|replaceable))\b")
# "how much would I get back for the knives?", "if I send the radio back, how much money do I
# get?", "how much would the refund be?": a question about a refund's amount, whatever the
# item is called (the classifier alone reads some item words as a policy question).
HOW_MUCH_BACK = re.compile(
    r"(?i)\bhow much\b(?: money| cash)?[^.?!]{0,30}?\b(?:(?:would|will|do|does|can|could|"
    r"should|shall) (?:i|we|you) (?:get|receive|be (?:refunded|paid|given|reimbursed)|"
    r"have refunded)(?! charged| billed)|(?:would|will|is|does) (?:the|my|a|that) refund|"
    r"(?:would|will) (?:i|we) be (?:refunded|reimbursed|paid back)|(?:would|will|do|does) "
    r"(?:it|that|this) refund|(?:would|will|is|gets?|does|can) (?:\w+ )?(?:be )?(?:refunded|"
    r"reimbursed|credited|paid back|returned to (?:me|my))|(?:would|will|do|does) (?:i|we) get "
    r"(?:refunded|reimbursed|credited))\b")
# "can I send it back?", "could we return the shoes?": may I? — a question about a return
# (a refund, R2), answered with the order's facts. "could I return it for my money back?" asks
# for the money in the same breath, so it stays a request.
MAY_I_RETURN = re.compile(
    r"(?i)\b(?:can|could|may) (?:i|we) (?:still |just |please )?(?:send (?:it|them|em|this|"
    r"that|these|those|\w+(?: \w+)?) back|return (?:it|them|em|this|that|these|those|the|my)\b)")
# "too late to cancel the shoes?", "have I missed the return window?": a question about an
# action, even without "is it" in front.
TOO_LATE_QUESTION = re.compile(r"(?i)\btoo late\b|\b(?:have|did) (?:i|we)(?: already)? "
                               r"miss(?:ed)?\b|\b(?:window|deadline|period) (?:closed|over|"
                               r"expired|passed)\b")
# "is 30202 refundable", "still returnable?": asking about an action, not for it.
ABLE = re.compile(r"(?i)\b(?:refundable|returnable|cancell?able|replaceable|eligible|"
                  r"is (?:that|it|this) (?:even )?(?:possible|doable|allowed|an option)|"
                  r"(?:would|will) (?:that|it|this) be (?:possible|allowed|ok|okay)|"
                  r"can (?:that|it|this) (?:still )?be done)\b")
# "help", "help me", "I need help": what the assistant can do, not a courtesy.
HELP_ONLY = re.compile(r"(?i)^\s*(?:pls |please )?(?:help|help me|i need help|need help|can you "
                       r"help(?: me)?|support)[.!?]*\s*$")
GO_AHEAD = re.compile(r"(?i)\b(?:please do|go ahead|do it|if so|if you can|if possible)\b")
QUESTION_START = re.compile(r"(?i)^\s*(?:how|what|when|can i|can you|do you|does|is it|is there|"
                            r"are|will|would|which|where can|who)\b")
# Starts with a greeting; is_greeting also needs the rest to be courtesy ("hi there", "hello team").
GREETING = re.compile(r"(?i)^\s*(?:hi+|hello+|hey+|hiya|heya|good (?:morning|afternoon|evening|day)|"
                      r"morning|evening|greetings|yo|howdy)\b")
# Messages made only of courtesy words (greetings, thanks, goodbyes, "ok cool") are `other`
# whatever the embedding says: short texts carry too little meaning for the classifier.
COURTESY_WORDS = frozenset("""
hi hello hey hiya heya howdy yo sup greetings morning afternoon evening night good day
how hows are doing going today whats up now
thanks thank thanx thx ty tysm ta cheers for quick reply answer info sorting out chat time much very so lot lots heaps again kindly many big
appreciate appreciated it that this you u your help helpful
bye goodbye cya ciao later see ya soon care take have nice great lovely wonderful weekend one
ok okay okie dokie k kk alright right cool nice perfect awesome brilliant fab fantastic super
excellent fine sorted all set done got noted understood sounds works for me
mate buddy friend guys folks team everyone there all
lol haha hahaha lmao a the and is was just
""".split())
THANKS = re.compile(r"(?i)\b(?:thanks?|thank you|thx|ty|cheers|appreciate it|great|perfect|"
                    r"awesome)\b")
AFFIRM = re.compile(r"(?i)^\s*(?:yes|yeah|yep|yup|y|sure|correct|right|confirm(?:ed)?|"
                    r"please do|do it|go ahead|ok(?:ay)?|that'?s (?:right|correct)|"
                    r"absolutely|definitely|please)\b")
# "no" declines, but "no. 13101" / "no 13101" is an order number.
DENY = re.compile(r"(?i)^\s*(?:(?:no|nope|nah)\b(?![\s.:#,;-]*#?\d)|never ?mind\b|"
                  r"don'?t\b|stop\b|forget it\b)")
CANCEL_WORDS = re.compile(r"(?i)\bcancel\w*|\bstop (?:the|my)\b[^.?!]{0,30}\border\b|"
                          r"\bcall off\b|\b(?:don'?t|do not) (?:ship|send|dispatch) (?:it|them|the|my)\b|"
                          r"\bstop (?:the )?(?:shipment|delivery)\b")
ACTION_WORDS = {"refund": REFUND_WORDS, "cancel": CANCEL_WORDS, "replacement": REPLACE_WORDS}
STATUS_WORDS = re.compile(r"(?i)\b(?:where|track\w*|status|arriv\w*|deliver\w*|ship\w*|when)\b")
# Words that, with an order number, make a message that only names an order ("1105",
# "it's order no. 1105", "the one I just placed, 1105"): it says which order, not what to do.
ORDER_ONLY_WORDS = frozenset("""
order orders no nr number num id ref reference it its is the one that this thats would be
please pls my here you go sorry i mean meant just placed ordered yes yeah ok oh a for with of
was s about regarding re
""".split())


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
    # Set from the customer's own orders (agents.dialogue): several orders the words fit
    # equally ("my phone case" with two), and how the order was found.
    candidates: list[str] = field(default_factory=list)
    linked_by: str = "none"

    @property
    def affirmative(self) -> bool:
        return bool(AFFIRM.match(self.text)) and len(self.text) <= 60

    @property
    def negative(self) -> bool:
        return bool(DENY.match(self.text)) and len(self.text) <= 60

    @property
    def is_greeting(self) -> bool:
        return bool(GREETING.match(self.text)) and courtesy_only(self.text)

    @property
    def is_thanks(self) -> bool:
        return bool(THANKS.search(self.text)) and len(self.text) <= 80


class OfflineNLU:
    """Classifier probabilities (from the message's one sentence vector) refined by the rules.

    The probabilities of recent texts are kept (an LRU): the agent reads "yes", "no", "ok" and
    the button's confirmation text many times a minute, and a retried message is read again.
    Each call still gets its own Understanding (the agent changes it as the turn goes on)."""

    CACHE = 4096  # texts

    def __init__(self, embedder, model: IntentModel):
        self.embedder = embedder
        self.model = model
        self._probs: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def probabilities(self, text: str) -> dict[str, float]:
        with self._lock:
            probs = self._probs.get(text)
            if probs is not None:
                self._probs.move_to_end(text)
                return dict(probs)
        probs = self.model.predict([text], self.embedder.encode([text]))[0]
        with self._lock:
            self._probs[text] = dict(probs)
            while len(self._probs) > self.CACHE:
                self._probs.popitem(last=False)
        return probs

    def understand(self, text: str) -> Understanding:
        return refine(text, self.probabilities(text))


def courtesy_only(text: str) -> bool:
    words = re.findall(r"[a-z]+", text.lower().replace("'", ""))
    return bool(words) and len(words) <= 12 and all(w in COURTESY_WORDS for w in words)


def only_names_an_order(text: str, order_id: str) -> bool:
    rest = text.lower().replace(order_id.lower(), " ").replace("'", "")
    words = re.findall(r"[a-z]+", rest)
    return len(words) <= 10 and all(w in ORDER_ONLY_WORDS for w in words)


LONE_ID = re.compile(r"(?<![\w\-$€£])#?([A-Za-z]{0,4}-?\d{1,12}(?:-[A-Za-z0-9]{1,8})?)(?![\w\-])")


def lone_order_id(text: str) -> str | None:
    """A reply that is just an id ("7", "B-7", "it's 7", "the one with id 7")."""
    match = LONE_ID.search(text)
    if match and only_names_an_order(text, match.group(1)):
        return match.group(1)
    return None


def asks_for(pattern: re.Pattern, text: str) -> bool:
    """The pattern occurs at least once without a negation just before it."""
    return any(not NEGATION.search(text[max(0, m.start() - 80):m.start()])
               for m in pattern.finditer(text))


def _returns_only(match: re.Match, text: str) -> bool:
    """"can I send it back?" names the return and nothing more: no money asked for besides
    ("could I return the blender for my money back?" is a polite request)."""
    rest = text[:match.start()] + " " + text[match.end():]
    return not REFUND_WORDS.search(rest)


# Where a message's later clause may start: "it came 30 days ago, am I still in time…?".
CLAUSE_BREAK = re.compile(r"[,;:]\s*|\s+[-–—]+\s+|(?<=[.!?])\s+|\n+")


def later_question(text: str, intent: str) -> bool:
    """A question about the action asked after a leading clause that only gives facts ("it came
    exactly 30 days ago, am I still in time for a refund?", "I got the jacket last month - would
    I get my money back?"): as much a question as without the first clause (R10). The clause
    itself must name the action, and nothing before it ask for it ("refund the jacket, when
    will I get the refund?" is a request with a question about its timing)."""
    words = ACTION_WORDS.get(intent)
    if words is None or not text.rstrip().endswith("?"):
        return False
    for m in CLAUSE_BREAK.finditer(text):
        clause, before = text[m.end():], text[:m.start()]
        if not clause.strip() or not INFO_QUESTION.match(clause):
            continue
        question = re.split(r"(?<=[?])\s", clause, maxsplit=1)[0]
        if not question.rstrip().endswith("?"):
            continue
        if (asks_for(words, question) or ABLE.search(question)) and not any(
                asks_for(w, before) for w in ACTION_WORDS.values()):
            return True
    return False


def bare_item_question(text: str) -> bool:
    """"helmet??", "my helmet?", "helmet whr": an item named (the caller ties it to an order)
    with only question marks or a "where" besides. Of an order on its way, that asks where it
    is (R5); a word of an action, a reason or anything more makes it something else."""
    words = re.findall(r"[a-z']+", text.lower())
    if not words or len(words) > 5 or not ("?" in text or WHERE_SHORT.search(text)):
        return False
    if any(asks_for(pattern, text) for pattern in ACTION_WORDS.values()) \
            or POLICY_WORDS.search(text) or courtesy_only(text) or entities.extract_reason(text):
        return False
    return sum(w not in BARE_WORDS for w in words) <= 2


ITEM_LEAD = re.compile(r"(?i)^\W*(?:(?:it'?s|its|it is|that'?s|this is|i mean|about|regarding|"
                       r"re|for|oh|hi|hey|hello|please|pls|plz|help|help me|help with|with)\W+)*"
                       r"(?:the|my|our)?\b")


def names_only_an_item(text: str) -> bool:
    """"it's the jacket", "about my blender", "the rain jacket": an item named and nothing
    else — no question, request, reason or policy word (the caller ties it to an order)."""
    words = re.findall(r"[a-z']+", text.lower())
    if not words or len(words) > 6 or "?" in text:
        return False
    if any(asks_for(pattern, text) for pattern in ACTION_WORDS.values()) \
            or POLICY_WORDS.search(text) or courtesy_only(text) or entities.extract_reason(text) \
            or WHERE_SHORT.search(text):
        return False
    rest = ITEM_LEAD.sub("", text, count=1)
    return 1 <= len(re.findall(r"[a-z']+", rest.lower())) <= 3


def refine(text: str, probs: dict[str, float]) -> Understanding:
    intent = max(probs, key=probs.get)
    confidence = probs[intent]
    signals: list[str] = []
    mood = mood_of(text)
    human = entities.wants_human(text)

    refund_words, replace_words = asks_for(REFUND_WORDS, text), asks_for(REPLACE_WORDS, text)
    cancel_words = asks_for(CANCEL_WORDS, text) and not NOT_A_REQUEST.search(text)
    asks_question = QUESTION_START.match(text) or text.rstrip().endswith("?")
    # Explicit wording backs the classifier up, corrects refund <-> replacement, and wins over
    # a vague reading ("I'd like to return my jersey" is not a policy question).
    vague = (intent in ("other", "policy_question", "status") and not human
             and REQUEST_PHRASING.search(text)
             and (not POLICY_WORDS.search(text) or IMPERATIVE_ORDER.match(text)))
    if (CAPABILITY.search(text) or HELP_ONLY.match(text)) and not human:
        intent, confidence, vague = "other", max(probs.get("other", 0), 0.9), False
        signals.append("asks what we can do")
    clear = clear_request(text)
    if (intent in ("refund", "replacement") or vague) and refund_words and not replace_words \
            and not cancel_words and (not asks_question or clear):
        intent, confidence = "refund", max(probs.get("refund", 0), 0.75)
        signals.append("explicit refund wording")
    elif (intent in ("refund", "replacement") or vague) and replace_words and not refund_words \
            and not cancel_words and (not asks_question or clear):
        intent, confidence = "replacement", max(probs.get("replacement", 0), 0.75)
        signals.append("explicit replacement wording")
    elif cancel_words and not refund_words and not replace_words and (
            intent in ("refund", "replacement") or (vague and (not asks_question or clear))):
        intent, confidence = "cancel", max(probs.get("cancel", 0), 0.75)
        signals.append("explicit cancel wording")
    elif (intent in ACTION_INTENTS or intent == "other") and WHERE_IS.search(text) \
            and not (refund_words or replace_words or cancel_words):
        intent, confidence = "status", max(probs.get("status", 0), 0.8)
        signals.append("asks where it is")
    money_question = bool(HOW_MUCH_BACK.search(text)) and not human and not replace_words
    if money_question:
        intent = "cancel" if cancel_words and not refund_words else "refund"
        confidence = max(probs.get(intent, 0), 0.75)
        signals.append("asks how much")
    may_i_return = (not money_question and intent in ("refund", "replacement")
                    and not replace_words and not cancel_words and asks_question and not clear
                    and any(_returns_only(m, text) for m in MAY_I_RETURN.finditer(text)))
    if may_i_return:
        # A return is a refund (R2), never a replacement (R4: damaged, defective, wrong).
        intent, confidence = "refund", max(probs.get("refund", 0), 0.75)
        signals.append("asks about a return")

    order_id = entities.extract_order_id(text) or lone_order_id(text)
    polite = POLITE_ACTION.match(text)
    if polite and not HEDGE.search(text) and (order_id or intent not in ACTION_INTENTS
                                              or confidence < 0.8):
        intent = POLITE_INTENT[polite.group(1).lower()]
        confidence = max(probs.get(intent, 0), 0.8)
        signals.append("polite request")
    elif intent == "cancel" and cancel_words and not asks_question:
        confidence = max(confidence, 0.75)  # "cancel the gloves": short, but unmistakable

    # "Please do NOT cancel order 1105, just tell me when it ships": the action is mentioned
    # only in the negative, so it is not what they want; nor is a complaint about an action
    # already done, or a request taken back.
    words = ACTION_WORDS.get(intent)
    complaint = NOT_A_REQUEST.search(text)
    if complaint and words is not None and asks_for(words, text) and any(
            other.search(complaint.group(0)) for i, other in ACTION_WORDS.items() if i != intent):
        # "the kettle you replaced broke too, I want my money back": the complaint is about
        # another action; this one is asked for.
        complaint = None
    others = [i for i, w in ACTION_WORDS.items() if i != intent and asks_for(w, text)]
    if (words is not None and words.search(text) and not asks_for(words, text)
            and len(others) == 1 and not complaint):
        # "I DON'T want a refund, I want a new vase": the other action is the request.
        intent, confidence = others[0], max(probs.get(others[0], 0), 0.75)
        signals.append("the other action asked for")
        words = None
    if words is not None and (complaint
                              or (words.search(text) and not asks_for(words, text))):
        if STATUS_WORDS.search(text):
            intent, confidence = "status", max(probs.get("status", 0), 0.7)
        else:
            confidence *= 0.3
        signals.append("action negated")

    if order_id and only_names_an_order(text, order_id) and not human:
        # Which order, not what to do: a follow-up completes the pending request; on its own
        # it is taken as "tell me about this order" (status never changes anything).
        intent, confidence = "status", 0.5
        signals.append("order number only")

    if courtesy_only(text) and not human and not HELP_ONLY.match(text):
        intent, confidence = "other", max(probs.get("other", 0), 0.9)
        signals.append("courtesy only")

    if intent in ACTION_INTENTS and (money_question or may_i_return) and not clear \
            and not GO_AHEAD.search(text):
        # "If I send it back, how much do I get?": a question, if a hypothetical one — it is
        # answered with the order's facts, never acted on.
        confidence *= 0.55
        signals.append("asked as a question")
    elif intent in ACTION_INTENTS and HEDGE.search(text) and not clear:
        confidence *= 0.55
        signals.append("hedged")
    elif intent in ACTION_INTENTS and (ABLE.search(text) or TOO_LATE_QUESTION.search(text)
                                       and asks_question) and not clear \
            and not GO_AHEAD.search(text):
        confidence *= 0.55
        signals.append("asked as a question")
    elif intent in ACTION_INTENTS and (INFO_QUESTION.match(text) and asks_question
                                       or later_question(text, intent)) \
            and not GO_AHEAD.search(text) and not clear:
        confidence *= 0.55
        signals.append("asked as a question")

    requested = intent
    if human:
        intent, confidence = "escalate", max(probs.get("escalate", 0), 0.95)
        signals.append("asked for a person")
    elif mood.very_frustrated:
        intent, confidence = "escalate", max(probs.get("escalate", 0), 0.9)
        signals.append("very frustrated")
    elif intent == "escalate" and (confidence < 0.6 or NO_PERSON_WANTED.search(text)):
        # A low-confidence guess never opens a case (cases were opened at 0.3-0.4 from misread
        # text), nor does "no need to get a person involved": a person must be asked for, or
        # the customer clearly very upset.
        if WHERE_IS.search(text):
            intent, confidence = "status", max(probs.get("status", 0), 0.7)
        else:
            intent, confidence = "other", max(probs.get("other", 0), 0.5)
            signals.append("might want a person")

    return Understanding(
        text=text, intent=intent, confidence=round(float(confidence), 4),
        order_id=order_id, reason=entities.extract_reason(text),
        frustration=mood, wants_human=human, requested_intent=requested,
        probabilities={k: round(v, 4) for k, v in probs.items()}, signals=signals)
