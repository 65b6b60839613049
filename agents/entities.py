"""Entities from customer text: the order number, the reason, and how frustrated they are.

A number counts as an order number when it is introduced as an order ("#1042",
"order 1042", "order no. 1042", "my order number is 1042"; then it may be short or
carry letters: "order 7", "order A-100", "order 7101-R") or, failing that, when a
3-12 digit number stands alone ("it's 1042") and is not a price, a quantity, a date,
a year, a phone number or a count of days.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from audit.redact import is_bare_phone

# An id introduced as an order may be short ("order 7") or carry letters ("A-100", "7101-R").
ORDER_ID = r"(\d{1,12}(?:-[A-Za-z0-9]{1,8})?|[A-Za-z]{1,4}-?\d{1,12}(?:-[A-Za-z0-9]{1,8})?)(?![\w\-])"
KEYED_ORDER = re.compile(
    r"(?ix)(?:\border|\bord|\bpurchase|\bpackage|\bparcel|\bshipment)s?"
    r"(?:\s*(?:no\.?|nr\.?|num(?:ber)?|id|\#|ref(?:erence)?)\b\.?)?"
    r"(?:\s*(?:is|was|:|=|-))?\s*(?:\#\s?)?" + ORDER_ID)
HASH_ORDER = re.compile(r"#\s?" + ORDER_ID)
BARE_NUMBER = re.compile(r"(?<![\w$€£.,:/\-+])(\d{3,12})(?![\w%]|[.,:/\-]\d)")
NOT_AN_ORDER_AFTER = re.compile(
    r"(?i)^\s*(?:days?|weeks?|months?|years?|hours?|mins?|minutes?|items?|pcs|pieces|units?|"
    r"dollars?|usd|eur|euros?|bucks|times?|x\b|kg|g\b|lbs?|cm|mm|ml|%|am\b|pm\b|[$€£]|"
    r"orders\b|more\b|of (?:them|these|those|each|it)\b)")
NOT_AN_ORDER_BEFORE = re.compile(
    r"(?i)(?:\$|€|£|usd|eur|price|cost|costs|paid|pay|total|charged|spent|worth|"
    r"phone|call|tel|mobile|cell|room|"
    r"apt|suite|zip|zip code|postcode|post code|since|year|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|"
    r"aug\w*|sep\w*|oct\w*|nov\w*|dec\w*|"
    # quantities ("I ordered 100 pens", "qty 300") and other numbers that are not orders
    r"\b(?:i|we) (?:ordered|bought|purchased|got|received|need|needed|want|wanted)|"
    r"qty|quantity|\bx|pack of|box of|set of|"
    r"tracking(?: (?:number|no\.?|\#|id))?(?: is)?|sku|model|ext|extension|"
    r"(?:card )?ending(?: in)?|digits)\s*$")
# A number that is one group of several ("020 7946 0958", "+44 7700 900123", "(415) 555-0199")
# is part of a phone number, never an order number.
DIGIT_GROUPS = re.compile(r"\+?\(?\d+\)?(?:[ .\-]\(?\d+\)?)+")

REASONS: dict[str, tuple[str, ...]] = {
    "wrong_item": (
        r"wrong (?:item|size|colou?r|product|model|thing|one|book|shoes?|order)",
        r"not what i (?:ordered|bought|paid for)", r"different (?:item|product|model|colou?r|size)",
        r"(?:sent|shipped|gave|received|got) (?:me )?the wrong", r"incorrect (?:item|size|product)",
        r"doesn'?t match (?:what|the)", r"instead of (?:the|my|what)", r"mixed up my order",
        r"isn'?t what i ordered", r"not the (?:one|item|size|colou?r) i (?:ordered|chose|picked)",
        r"(?:ordered|asked for|chose|picked) (?:a |an |the )?(?:size|colou?r|model|version) [\w.]+"
        r"[,;]? (?:but |and )?(?:i )?(?:got|received|was sent|you sent|they sent)"),
    "damaged": (
        r"\bbroken\b", r"\bbroke\b", r"\bsnapped\b", r"broke off", r"fell off", r"came off",
        r"came apart", r"fell apart", r"split (?:open|in)", r"\bripped\b", r"crack(?:ed|s)?\b", r"smash(?:ed)?", r"shatter(?:ed)?",
        r"dent(?:ed)?\b", r"damag(?:ed|e)", r"in pieces", r"torn\b", r"ripped", r"scratch(?:ed|es)",
        r"crushed", r"leak(?:ing|ed|s)?\b", r"bent\b", r"chipped",
        r"(?:has|have|with|got|there'?s|there is) (?:a |an )?(?:small |big |little |huge )?"
        r"(?:chip|chips|dent|hole|tear|scratch)\b", r"arrived destroyed"),
    "defective": (
        r"does(?:n'?t| not) work", r"do(?:n'?t| not) work", r"is(?:n'?t| not) working",
        r"stopped working", r"not working", r"won'?t (?:turn|switch|power|start|charge|boot|work)",
        r"faulty", r"defect(?:ive)?", r"malfunction\w*", r"dead on arrival", r"\bdoa\b",
        r"will not (?:turn|switch|power|start|charge)", r"keeps (?:crashing|turning off|dying)",
        r"no power", r"(?:is|it'?s) dead\b", r"glitch\w*", r"buggy",
        r"(?:won'?t|doesn'?t|does not|will not|can'?t) (?:hold|keep) (?:a |its |the )?charge",
        r"battery (?:dies|drains|is dead)", r"double[- ]click\w*", r"keeps (?:disconnecting|"
        r"freezing|restarting)", r"(?:is|it'?s) (?:broken|faulty) inside",
        r"\bdead (?:\w+ )?(?:key|keys|button|buttons|spacebar|space bar|pixels?|zone|battery)\b",
        r"\bsticky\b", r"\blaggy\b", r"\blags?\b", r"keeps? cutting out", r"cuts? out\b",
        r"overheat\w*", r"won'?t (?:connect|pair|sync)",
        r"(?:key|keys|button|buttons) (?:is |are )?(?:stuck|sticking)",
        # "it only makes a hissing noise", "no sound at all", "send me a new radio that works"
        r"makes? (?:a |an )?(?:\w+ )?(?:hissing|buzzing|crackling|clicking|grinding|rattling|"
        r"whining|screeching|strange|weird|funny|odd|horrible|awful) (?:noise|sound)",
        r"\bno sound\b", r"\bcrackl(?:es|ing)\b", r"\bhiss(?:es|ing)\b",
        r"(?:new|another|replacement) (?:\w+ ){0,2}that (?:actually |properly )?works\b"),
    "late": (
        r"\blate\b", r"took (?:forever|too long|ages)", r"too late", r"still (?:not|hasn'?t) "
        r"(?:here|arrived|come|shown)", r"never (?:arrived|came|showed)", r"delayed", r"overdue",
        r"hasn'?t arrived", r"not arrived", r"missed (?:the|my) (?:deadline|event|date)"),
    "not_needed": (
        r"changed my mind", r"change of heart", r"(?:don'?t|do not|no longer) (?:need|want)",
        r"not needed", r"ordered (?:it )?by (?:mistake|accident)", r"accidental(?:ly)? order",
        r"mistakenly (?:ordered|bought)", r"found (?:it )?cheaper", r"no use for",
        r"bought (?:it )?(?:elsewhere|somewhere else)", r"don'?t like it", r"didn'?t like it",
        r"not (?:what i expected|as described)", r"doesn'?t fit my needs"),
}
_REASON_RES = {k: re.compile("|".join(v), re.I) for k, v in REASONS.items()}

PROFANITY = re.compile(
    r"(?i)\b(?:f+u+c+k\w*|shit\w*|crap\w*|damn\w*|bullshit|wtf|ffs|bloody|hell|ass(?:hole)?s?|"
    r"bastard\w*|pissed|screw (?:you|this)|sucks?|useless|pathetic|ridiculous|unacceptable|"
    r"disgusting|outrageous|joke|scam\w*|thie(?:f|ves)|incompetent|worst|terrible|horrible|"
    r"furious|livid|sick and tired|fed up)\b")
REPEATED_CONTACT = re.compile(
    r"(?i)(?:(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)|\d+|several|many|multiple|"
    r"countless|numerous|two|three|four|five|six) (?:times?|emails?|calls?|messages?)|"
    r"(?:third|fourth|fifth|\d+(?:rd|th)) time|again and again|over and over|"
    r"keep (?:asking|writing|calling|emailing)|still (?:no|nothing|waiting)\b|"
    r"(?:contacted|called|emailed|written|wrote|messaged) (?:you )?(?:\w+ )?(?:times|already|again))")
# "still not here" is impatience, weaker than having written several times already.
STILL_WAITING = re.compile(r"(?i)\bstill (?:not|isn'?t|hasn'?t|haven'?t|no sign)\b")
MANAGER = re.compile(r"(?i)\b(?:manager|supervisor|superior|someone in charge|head of)\b")
THREAT = re.compile(
    r"(?i)\b(?:chargeback|charge back|disput(?:e|ing) (?:the|this|my|it|that)(?: \w+)? "
    r"(?:charge|payment|transaction)|(?:call|contact|tell|go to) my bank|lawyer|attorney|"
    r"sue\b|suing|legal action|court|report (?:you|this)|bbb|better business bureau|"
    r"trading standards|bad review|1[- ]star|one[- ]star|never (?:again|order|buy|shop)|"
    r"cancel(?:ling)? my account|take my business|social media|twitter|trustpilot)\b")
HUMAN_REQUEST = re.compile(
    r"(?i)\b(?:(?:speak|talk|chat)(?:ing)? (?:to|with) (?:a |an |some |your )?"
    r"(?:real |live |actual )?(?:human|person|agent|someone|somebody|representative|rep|"
    r"manager|supervisor|people)|real (?:human|person)|live (?:agent|person|chat)|"
    r"human (?:agent|being|please)|"
    r"(?:get|have|ask|want|need|like) (?:a |an |some )?(?:real )?(?:person|human|someone|somebody|"
    r"agent|manager|representative|rep) (?:to )?(?:call|contact|email|ring|phone|get back to|look "
    r"(?:at|into)|check|review|deal with|sort|handle|help)|"
    r"(?:someone|somebody|a person|a human|an agent) (?:to |should |could |can )?(?:call|ring|phone) "
    r"me|(?:get|give|connect|transfer|put) me (?:to|through to|with) "
    r"(?:a |an )?(?:human|person|agent|someone|representative|manager|supervisor)|"
    r"(?:a |an )?(?:human|manager|supervisor|representative),? (?:please|pls|now)|"
    r"escalate (?:this|my)|not (?:a |another )?(?:bot|robot|machine)|stop the bot|"
    # "transfer me to customer support", "put me through to customer service"
    r"(?:transfer|connect|put|pass|hand) (?:me|this|my case) (?:over |through )?(?:to|with) "
    r"(?:a |an |the |your |one of your )?(?:customer (?:support|service|care|relations)|"
    r"support (?:staff|team|agent)|staff|colleague|employee|member of (?:staff|your team)|"
    r"(?:real |live |actual )?(?:human|person|agent|someone|somebody|representative|rep))|"
    r"(?:a |an )?(?:real |actual )?(?:member of staff|staff member|employee) "
    r"(?:to )?(?:call|contact|help|look at)|"
    r"someone (?:from|on|in) your (?:team|staff|support))\b")


@dataclass(frozen=True)
class Frustration:
    score: float
    signals: tuple[str, ...]

    @property
    def frustrated(self) -> bool:
        return self.score >= 1.0

    @property
    def very_frustrated(self) -> bool:
        """Strong enough on its own to hand the case to a person (R6)."""
        return self.score >= 2.5


LETTERED_ID = re.compile(r"(?<![\w\-])([A-Z]{1,4}-\d{1,12}(?:-[A-Za-z0-9]{1,8})?)(?![\w\-])")
# "ORD-37104", "NO-37104": the letters say "order", the number is the order.
ORDER_WORD_PREFIX = re.compile(r"(?i)^(?:ord|order|no|nr|num|ref|id)-(?=\d)")
# "37 101", "37,402", "37-103", "1.042": one number written in groups of three (the first
# of one or two digits: "101,102" is two ids).
GROUPED = re.compile(r"\d{1,2}(?:[ \u00a0\u202f,.\-]\d{3})+(?![\w\-])")


def ascii_digits(text: str) -> str:
    """Arabic-Indic, full-width and other Unicode digits become 0-9."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c
                   for c in unicodedata.normalize("NFKC", text))


def _order_matches(text: str):
    """Every number introduced as an order, in pattern order, as the plain id."""
    for pattern in (KEYED_ORDER, HASH_ORDER, LETTERED_ID):
        for match in pattern.finditer(text):
            value, end = match.group(1), match.end()
            if pattern is LETTERED_ID:
                value = ORDER_WORD_PREFIX.sub("", value)
            if re.fullmatch(r"\d{1,2}(?:-\d{3})?", value):
                # "no. 37 101", "#37-103", "37,402": the id goes on in groups of three.
                grouped = GROUPED.match(text, match.start(1))
                if grouped:
                    value, end = re.sub(r"\D", "", grouped.group()), grouped.end()
            # "my order 2 days ago", "order 3 items": a count, not an order number
            if NOT_AN_ORDER_AFTER.match(text[end:end + 30]):
                continue
            yield value


def extract_order_id(text: str) -> str | None:
    text = ascii_digits(text)
    for value in _order_matches(text):
        return value
    phone_spans = [m.span() for m in DIGIT_GROUPS.finditer(text)
                   if len(re.sub(r"\D", "", m.group())) >= 7]
    for match in BARE_NUMBER.finditer(text):
        # Only the words right next to the number matter (and whole-text slices are quadratic).
        number = match.group(1)
        before = text[max(0, match.start() - 60):match.start()]
        after = text[match.end():match.end() + 30]
        if any(start <= match.start() < end for start, end in phone_spans):
            continue
        if NOT_AN_ORDER_AFTER.match(after) or NOT_AN_ORDER_BEFORE.search(before):
            continue
        if len(number) == 4 and 1900 <= int(number) <= 2099:
            continue  # a year
        if len(number) in (10, 11) and (
                re.search(r"(?i)(phone|call|text|mobile|cell)", before[-25:])
                or is_bare_phone(text, match.start())):
            continue
        return number
    return None


# The customer's own mistake ("I ordered the wrong size") is a change of mind, not our wrong item.
OWN_MISTAKE = re.compile(r"(?i)\b(?:i|we) (?:accidentally |mistakenly )?(?:ordered|bought|picked|"
                         r"chose|selected|clicked) (?:the |a )?wrong\b")


def extract_order_ids(text: str) -> list[str]:
    """Every order number introduced as one ("order 1001 and order 1002", "#1001, #1002"), in
    order and without repeats."""
    found: list[str] = []
    for value in _order_matches(ascii_digits(text)):
        if value not in found:
            found.append(value)
    return found


def extract_reason(text: str) -> str | None:
    if OWN_MISTAKE.search(text):
        return "not_needed"
    for reason in ("wrong_item", "damaged", "defective", "late", "not_needed"):
        if _REASON_RES[reason].search(text):
            return reason
    return None


# "a person", "human please", "real person!" on their own (after "shall I pass this on?").
PERSON_ALONE = re.compile(r"(?i)^\s*(?:yes,? )?(?:a |an )?(?:real |actual )?(?:person|human|agent|"
                          r"human being|someone real)(?: please| pls| now)?[.!]*\s*$")


# "no need to get a person involved", "I don't want to talk to a human": not a request.
NO_PERSON = re.compile(r"(?i)\b(?:no need|don'?t (?:need|want)|do not (?:need|want)|without|"
                       r"never|not|no)\b[^.?!]{0,20}$")


def wants_human(text: str) -> bool:
    if PERSON_ALONE.match(text):
        return True
    return any(not NO_PERSON.search(text[max(0, m.start() - 30):m.start()])
               and not re.search(r"(?i)\bno need\b", text[max(0, m.start() - 40):m.start()])
               for m in HUMAN_REQUEST.finditer(text))


def frustration(text: str) -> Frustration:
    signals, score = [], 0.0
    letters = [c for c in text if c.isalpha()]
    upper_words = re.findall(r"\b[A-Z]{3,}\b", text)
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        signals.append("all caps")
        score += 1.5
    elif len(upper_words) >= 2:
        signals.append("shouting")
        score += 0.75
    bangs = text.count("!")
    if bangs >= 3 or "!!" in text:
        signals.append("exclamation marks")
        score += 0.75
    swears = PROFANITY.findall(text)
    if swears:
        signals.append("strong language")
        score += min(2.0, 1.0 * len(swears))
    if REPEATED_CONTACT.search(text):
        signals.append("repeated contact")
        score += 1.0
    elif STILL_WAITING.search(text):
        signals.append("still waiting")
        score += 0.5
    if MANAGER.search(text):
        signals.append("asks for a manager")
        score += 1.0
    if THREAT.search(text):
        signals.append("threatens to leave or dispute")
        score += 1.25
    return Frustration(round(score, 2), tuple(signals))


def mood_label(f: Frustration) -> str:
    if f.very_frustrated:
        return "very frustrated"
    if f.frustrated:
        return "frustrated"
    return "calm"
