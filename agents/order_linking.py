"""Which of the customer's orders do the words point at?

In order of strength: an order number (however it is written: "31 001", "ORD-31001",
"#031001", "order no. ٣١٠٠١"), the items ("my telescope", "the blue phone case"), a
reference to the list we just showed ("the second one", "the pending one", "the cheaper
one", "the other one"), or to the order we were just talking about ("cancel it", "that
too"). Only when nothing in the text points at an order may R7 pick the one that
qualifies. An order number the customer does not have is kept as it is, so the tool
answers "not found" exactly as for a missing order (R1).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from agents.entities import ascii_digits, extract_order_id, extract_order_ids, extract_reason
from agents.shop_view import OrderFact
from db.models import utcnow

STOP = frozenset("""the a an my your our of for and with in on to piece pieces
item items order orders one ones thing things stuff product products x pair pairs new
""".split())
ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3,
            "4th": 3, "fifth": 4, "5th": 4}
ORDINAL_REF = re.compile(r"(?i)\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|"
                         r"latest|newest|oldest|top|bottom)\b(?: one| order| item)?")
FIRST_N = re.compile(r"(?i)\b(first|top|last|bottom) (two|three|four|2|3|4)\b")
NUMBERED_REF = re.compile(r"(?i)\b(?:number|no\.?|option|#)\s*([1-5])\b(?!\d)")
STATUS_REF = re.compile(r"(?i)\b(pending|processing|shipped|delivered|cancelled|canceled|"
                        r"unshipped|on its way|in transit)\b")
# "the cheaper one", "the dearer one", "the less expensive one", "the one that costs more".
PRICE_REF = re.compile(r"(?i)\b((?:less|least) (?:expensive|pricey|costly)|cheap(?:er|est)|"
                       r"inexpensive|lower[- ]priced|costs? less|(?:more|most) (?:expensive|pricey|"
                       r"costly)|expensive|pric(?:ier|iest)|dear(?:er|est)|costl(?:ier|iest)|"
                       r"higher[- ]priced|costs? more|bigger|biggest|smaller|smallest|"
                       # bare "cheap" / "pricey" only as a name for one of the list
                       r"(?:cheap|pricey)(?= one\b| order\b| item\b| thing\b|$))\b")
LOW_PRICE = re.compile(r"(?i)^(?:less|least|cheap|inexpensive|lower|costs? less|small)")
OTHER_REF = re.compile(r"(?i)\bthe other(?: one| order)?\b")
FOCUS_REF = re.compile(r"(?i)\b(?:it|that|this|them|those|these|that one|this one|that order|"
                       r"this order|the same)\b")
# "track 88", "cancel 512": an id right after the verb, however short.
VERB_ID = re.compile(r"(?i)\b(?:track|cancel|refund|return|replace|status of|where(?:'s| is))"
                     r"\s+#?([A-Za-z]{0,4}-?\d{1,12}(?:-[A-Za-z0-9]{1,8})?)\b")
IN_CASE = re.compile(r"(?i)\b(?:in|just in|any) case\b")
DIGIT_RUN = re.compile(r"(?<![\w$€£])#?\s?(?:[A-Za-z]{1,4}-)?\d(?:[\d]|[ ,.\-](?=\d)){0,14}(?:-[A-Za-z0-9]{1,8})?")


# Items the customer says are fine ("my reading glasses are fine", "no complaints about the
# radio", "happy with the hose") are not what a request in the same message is about.
CLAUSE = re.compile(r"[.!?;\n]+\s*|\s*,?\s*\b(?:but|however|although|though|whereas|while|"
                    r"except|yet)\b")
FINE_STATE = re.compile(
    r"(?i)(?:\b(?:is|are|seems?|looks?|works?|arrived|came|fits?|feels?)|'s|'re)\s+"
    r"(?:(?:all|just|perfectly|absolutely|totally|completely|really|very|quite|so|both|"
    r"in)\s+)?(?:fine|ok|okay|alright|all right|good|great|perfect|lovely|excellent|brilliant|"
    r"(?:good|perfect|great) (?:condition|shape|order|nick))\b")
FINE_OBJECT = re.compile(
    r"(?i)\b(?:no (?:complaints?|problems|issues|trouble)|nothing wrong|(?:happy|pleased|"
    r"satisfied|delighted|content) with|(?:i'?ll|i will|i'?d like to|happy to|i want to) keep)\b"
    r"(?:\s+(?:with|about|regarding|on|for))?")
PRONOUN_FINE = re.compile(r"(?i)^\s*(?:it'?s|its|it is|they'?re|theyre|they are|that'?s|thats)\s+"
                          r"(?:all\s+|totally\s+|perfectly\s+|just\s+)?(?:fine|ok|okay|good|great|"
                          r"perfect|alright|all right)\b")
ARRIVED = re.compile(r"(?i)\b(?:the|my)\s+((?:[a-z-]+\s+){0,2}?[a-z-]+)\s+(?:came|arrived|got here|"
                     r"turned up|is here|was delivered)\b")
NOT_BEFORE = re.compile(r"(?i)(?:n't|\bnot|\bnever|\bno longer|\bun)\s*(?:\w+\s+)?$")
ACTION_WORD = re.compile(r"(?i)\b(?:refund|money back|cancel|replac|exchange|return|send \w+ "
                         r"back|swap)")


# Items the customer rules out: "not the boots", "everything except the clock", "apart from
# the mug", "espresso machine keep", "keep the boots".
EXCLUDED = re.compile(
    r"(?i)(?:\b(?:but\s+)?not\s+(?:the|my|for\s+the|for\s+my)|\bexcept(?:\s+for)?(?:\s+(?:the|my))?|"
    r"\bapart\s+from(?:\s+(?:the|my))?|\bother\s+than(?:\s+(?:the|my))?|\bexcluding(?:\s+(?:the|my))?|"
    r"\b(?<!to )(?<!i'll )(?<!i )keep(?:ing)?\s+(?:the|my))\s+((?:[a-z][\w-]*\s*){1,3}?)"
    r"(?=\s*(?:[,.;!?]|$|\b(?:and|but|please|pls|refund|cancel|return|replace|okay|ok|thanks|"
    r"i|which|that|as|because|since)\b))")
KEPT_AFTER = re.compile(r"(?i)\b((?:[a-z][\w-]*\s+){1,3})keep\b(?!\s+(?:the|my|it|them|one))")


def without_excluded_items(text: str) -> str:
    """The text with the items the customer rules out blanked (same length)."""
    out = list(text)
    for m in EXCLUDED.finditer(text):
        out[m.start(1):m.end(1)] = " " * (m.end(1) - m.start(1))
    for m in KEPT_AFTER.finditer(text):
        words = m.group(1)
        cut = max((a.end() for a in ACTION_WORD.finditer(words)), default=0)
        a, b = m.start(1) + cut, m.end(1)
        out[a:b] = " " * (b - a)
    return "".join(out)


def without_fine_items(text: str) -> str:
    """The text with the items said to be fine, or ruled out, blanked (the same length, so
    positions still hold). Nothing is blanked in a clause that names a problem, nor where the
    words ask for an action."""
    text = without_excluded_items(text)
    out = list(text)
    start, before = 0, None
    for cut in [*CLAUSE.finditer(text), None]:
        end = cut.start() if cut else len(text)
        clause = text[start:end]
        if before is not None and PRONOUN_FINE.match(clause):
            # "…and also the jersey came but it's fine": the item of the clause before
            arrived = list(ARRIVED.finditer(text, before[0], before[1]))
            if arrived:
                a, b = arrived[-1].span(1)
                out[a:b] = " " * (b - a)
        before = (start, end)
        if clause.strip() and not extract_reason(clause):
            spans = []
            for m in FINE_STATE.finditer(clause):
                left = max(clause.rfind(",", 0, m.start()), clause.rfind(":", 0, m.start())) + 1
                if not ACTION_WORD.search(clause[left:m.end()]):
                    spans.append((left, m.start()))  # the subject: "my reading glasses"
            for m in FINE_OBJECT.finditer(clause):
                stop = clause.find(",", m.end())
                stop = stop if stop >= 0 else len(clause)
                if not (NOT_BEFORE.search(clause[max(0, m.start() - 15):m.start()])
                        or ACTION_WORD.search(clause[m.start():stop])):
                    spans.append((m.end(), stop))  # the object: "…with the hose"
            for a, b in spans:
                out[start + a:start + b] = " " * (b - a)
        start = cut.end() if cut else len(text)
    return "".join(out)


@dataclass
class Link:
    order_ids: list[str] = field(default_factory=list)  # what the words point at, in order
    candidates: list[str] = field(default_factory=list)  # several fit equally: ask which
    how: str = "none"  # number | item | list | status | focus | none
    unknown_id: str | None = None  # a number that is not one of theirs (R1: "not found")


def _key(order_id: str) -> str:
    return re.sub(r"[^0-9a-z]", "", order_id.lower()).lstrip("0") or "0"


def _numbers(text: str, orders: list[OrderFact], hint: str | None
             ) -> tuple[list[str], str | None]:
    """The customer's orders named by number, however written, and an unknown number if any.

    A bare number counts only when it has at least four characters: "I waited 7 days" is
    not order 7 (a short id counts when it is introduced as an order: "order 7", "#7")."""
    keys = {_key(o.id): o.id for o in orders}
    found: list[str] = []

    def add(candidate: str, short_ok: bool = False) -> bool:
        key = _key(candidate)
        oid = keys.get(key)
        if oid and oid not in found and (short_ok or len(key) >= 4):
            found.append(oid)
            return True
        return False

    for match in DIGIT_RUN.finditer(text):
        raw = match.group(0).lstrip("#").strip()
        whole = (raw, re.sub(r"(?i)^(ord|order|no)[-\s]*", "", raw))
        if not any(add(c) for c in whole):
            for part in re.split(r"[ ,.\-]", raw):
                add(part)
    for oid in [*extract_order_ids(text), *VERB_ID.findall(text), *([hint] if hint else [])]:
        add(oid, short_ok=True)
    unknown = None
    if not found:
        explicit = extract_order_id(text) or hint
        if explicit and _key(explicit) not in keys:
            unknown = explicit
    return found, unknown


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", IN_CASE.sub(" ", text.lower())) if w not in STOP]


IRREGULAR = {"mice": "mouse", "feet": "foot", "teeth": "tooth", "knives": "knife",
             "people": "person", "men": "man", "women": "woman", "children": "child",
             "geese": "goose", "shelves": "shelf", "leaves": "leaf"}


def _singular(word: str) -> str:
    if word in IRREGULAR:
        return IRREGULAR[word]
    for suffix, repl in (("ies", "y"), ("ves", "f"), ("sses", "ss"), ("xes", "x"),
                         ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("ss", "ss"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) + len(repl) >= 3:
            return word[: -len(suffix)] + repl  # "cases" -> "case", "glasses" -> "glass"
    return word


# Everyday names for the same kind of thing ("the hat" for a wool beanie, "my trainers").
ALIASES = [frozenset(group.split()) for group in (
    "hat beanie cap", "sneaker trainer shoe", "jumper sweater pullover", "couch sofa",
    "mug cup", "rucksack backpack", "bike bicycle", "pant trouser", "earphone earbud",
    "tv television", "cellphone mobile smartphone", "spec glass", "hoodie sweatshirt",
    "duvet comforter quilt", "sofa settee")]


def _alias(a: str, b: str) -> bool:
    a, b = _singular(a), _singular(b)
    return any(a in group and b in group for group in ALIASES)


def _same(a: str, b: str) -> float:
    """How surely two words name the same thing: 1 when equal, singular/plural or a typo;
    0.8 for an everyday alias ("hat" for "beanie"); 0.5 for a compound's end ("phone" in
    "smartphone"); else 0."""
    if a == b or _singular(a) == _singular(b):
        return 1.0
    if _alias(a, b):
        return 0.8
    if len(a) >= 5 and len(b) >= 5 and fuzz.ratio(a, b) >= 84:
        return 1.0
    if len(b) >= 3 and len(a) - len(b) == 1 and a.startswith(b):
        return 1.0  # a dropped last letter: "blu", "jerse"
    return 0.5 if len(b) >= 4 and a.endswith(b) and len(a) - len(b) <= 6 else 0.0


def item_match(name: str, words: list[str]) -> tuple[float, bool, frozenset[str]]:
    """How well the words fit an item name (0-1), whether its head noun was named, and which
    of the words it explains."""
    main, _, extra = name.lower().partition("(")
    # Sizes and model numbers ("27-inch 4K") say little about which item a customer means.
    tokens = [(t, 1.0) for t in re.findall(r"[a-z0-9]+", main)
              if t not in STOP and not any(c.isdigit() for c in t) and t not in UNITS]
    if not tokens:
        return 0.0, False, frozenset()
    # The head noun: "chair" in "office chair" — but in "vacuum cleaner" or "espresso machine"
    # customers name the thing by the word before a generic one ("my vacuum").
    head = len(tokens) - 1
    if len(tokens) >= 2 and tokens[-1][0] in GENERIC_HEADS:
        head -= 1
    tokens[head] = (tokens[head][0], 2.0)
    tokens += [(t, 1.0) for t in re.findall(r"[a-z0-9]+", extra) if t not in STOP]
    credit, used = [], set()
    for t, w in tokens:
        best = max(((_same(t, x), x) for x in words), default=(0.0, ""))
        credit.append((w, best[0]))
        if best[0] > 0:
            used.add(best[1])
    total = sum(w for w, _ in credit)
    return (sum(w * c for w, c in credit) / total,
            any(w == 2.0 and c > 0 for w, c in credit), frozenset(used))


GENERIC_HEADS = frozenset("cleaner machine maker set kit device unit system appliance bundle "
                          "pack".split())
UNITS = frozenset("inch inches cm mm ml kg lb oz xl xxl".split())


def _distinctive(words: list[str], orders: list[OrderFact]) -> list:
    """Last resort: a word that appears in the items of exactly one order ("the laptop one"
    for a laptop stand) points at that order."""
    owners: dict[str, set[str]] = {}
    for o in orders:
        for name in o.items:
            for t in re.findall(r"[a-z]+", name.lower()):
                if len(t) >= 4 and t not in STOP:
                    owners.setdefault(t, set()).add(o.id)
    fits = []
    for w in words:
        hits = {oid for t, ids in owners.items() if _same(t, w) == 1.0 for oid in ids}
        if len(hits) == 1:
            oid = hits.pop()
            fits.append((1, 0.3, oid, frozenset({w})))
    return fits


def _by_items(text: str, orders: list[OrderFact], within_list: bool, distinctive: bool = True
              ) -> tuple[list[str], list[str]]:
    """(orders the words name, in the text's order; orders they fit equally well — ask).

    Each word names one thing: "the football jersey" is the jersey, not the football (the
    jersey explains more of the words); "the sweater and the beanie" names two orders; "my
    phone case" with two phone cases fits both equally, so the customer must say which."""
    words = _words(text)
    fits = []
    for o in orders:
        best = None
        for name in o.items:
            score, head, used = item_match(name, words)
            if not (head or (within_list and score > 0)):
                continue
            if score >= (0.25 if within_list else 0.4) and (best is None or score > best[0]):
                best = (score, used)
        if best:
            fits.append((len(best[1]), best[0], o.id, best[1]))
    if not fits and not within_list and distinctive:
        fits = _distinctive(words, orders)
    fits.sort(key=lambda f: (-f[0], -f[1]))
    named: list[tuple[str, frozenset]] = []
    tied: list[str] = []
    left = Counter(words)  # a word said twice can name two things ("laptop", "laptop sleeve")
    for _count, score, oid, used in fits:
        same = [n for n, u in named if u == used]
        if same and abs(next(f[1] for f in fits if f[2] == same[0]) - score) < 0.01:
            tied.extend(x for x in (*same, oid) if x not in tied)
            continue
        if all(left[w] <= 0 for w in used):
            continue
        named.append((oid, used))
        left.subtract(used)
    named_ids = [oid for oid, _ in named if oid not in tied]
    order = {w: i for i, w in enumerate(words)}
    named_ids.sort(key=lambda oid: min((order.get(w, 99) for w in dict(named)[oid]), default=99))
    return named_ids, tied


def _from_list(text: str, listed: list[OrderFact], focus: str | None) -> list[str]:
    if not listed:
        return []
    if OTHER_REF.search(text):
        rest = [o.id for o in listed if o.id != focus]
        return rest if len(rest) == 1 else []
    match = FIRST_N.search(text)
    if match:  # "the first two", "the last 2"
        n = NUMBER_WORDS.get(match.group(2).lower()) or int(match.group(2))
        if 1 < n <= len(listed):
            picked = listed[:n] if match.group(1).lower() in ("first", "top") else listed[-n:]
            return [o.id for o in picked]
    match = ORDINAL_REF.search(text)
    if match:
        word = match.group(1).lower()
        if word in ("last", "bottom"):
            return [listed[-1].id]
        if word in ("latest", "newest"):
            return [max(listed, key=lambda o: o.ordered_at or o.delivered_at).id]
        if word == "oldest":
            return [min(listed, key=lambda o: o.ordered_at or o.delivered_at).id]
        index = 0 if word == "top" else ORDINALS[word]
        return [listed[index].id] if index < len(listed) else []
    match = NUMBERED_REF.search(text)
    if match and int(match.group(1)) <= len(listed):
        return [listed[int(match.group(1)) - 1].id]
    match = STATUS_REF.search(text)
    if match:
        word = match.group(1).lower().replace("canceled", "cancelled")
        wanted = {"unshipped": ("pending", "processing"), "on its way": ("shipped",),
                  "in transit": ("shipped",)}.get(word, (word,))
        fits = [o.id for o in listed if o.status in wanted]
        return fits if len(fits) == 1 else []
    match = PRICE_REF.search(text)
    if match:
        low = bool(LOW_PRICE.match(match.group(1)))
        pick = (min if low else max)(listed, key=lambda o: o.total_cents)
        return [pick.id]
    return []


# An order named by when it was placed, with no list on screen: "my most recent order".
RECENCY_REF = re.compile(r"(?i)\b(?:my|the)\s+(?:very\s+)?(most\s+recent|latest|last|newest|"
                         r"first|oldest|earliest)\s+(?:order|purchase|one|package|parcel|"
                         r"delivery)\b")


# "everything", "all my orders", "the lot": every order the action could apply to, less any
# the customer rules out.
EVERYTHING = re.compile(r"(?i)\b(?:everything|every order|all (?:of )?my (?:orders|stuff|things|"
                        r"purchases)|all (?:the|my) (?:orders|stuff|things)|the (?:whole )?lot)\b")
ACTION_STATUS = re.compile(r"(?i)\b(?:cancel|refund|return|replac)")
_FITS = {"canc": ("pending", "processing"), "refu": ("delivered",), "retu": ("delivered",),
         "repl": ("delivered",)}
# "both phone cases", "all three mugs": every order the words fit, not "which one?".
BOTH_OF = re.compile(r"(?i)\b(?:both|all|each|the two|all two|all three)\b(?!\s+(?:of\s+)?"
                     r"(?:the\s+)?(?:same|right|fine|good|ok|okay|wrong)\b)")

# "both pending ones", "my delivered orders", "the unshipped stuff": orders named by status.
STATUS_NAMES = re.compile(
    r"(?i)\b(?:(the|my|both|all|those|these|two|three|2|3|every)\s+(?:(?:of\s+)?(?:my|the)\s+)?|"
    r"(?<!\w))(pending|processing|shipped|delivered|unshipped|undelivered)\s+"
    r"(ones?|orders?|items?|things?|stuff|purchases?|parcels?|packages?)\b")
# "everything that hasn't shipped", "the ones not delivered yet", "the order that hasn't arrived"
NOT_YET = re.compile(
    r"(?i)\b(everything|all|the ones?|orders?|stuff|things?|what(?:ever)?|anything)\s+(?:that\s+|which\s+)?"
    r"(?:hasn'?t|haven'?t|has not|have not|isn'?t|aren'?t|is not|are not|not)\s+(?:been\s+|yet\s+)?"
    r"(shipped|sent|dispatched|delivered|arrived)\b")
PLURAL = re.compile(r"(?i)^(?:both|all|those|these|two|three|2|3|every)$|s$|^stuff$")
# "ordered yesterday", "arrived 12 days ago", "from last week", "the one I bought on Monday".
WHEN = re.compile(
    r"(?i)\b(?:(yesterday|today|this morning|last night)|(\d{1,2}|a|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|a couple of|a few)\s+(days?|weeks?)\s+ago|(last|this|a)\s+week(?:\s+ago)?|"
    r"(?:on|last)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b")
NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDERED_WORDS = re.compile(r"(?i)\b(?:order\w*|plac\w*|bought|buy|purchas\w*|made)\b")
DELIVERED_WORDS = re.compile(r"(?i)\b(?:arriv\w*|deliver\w*|came|come|received|got|turned up|"
                             r"showed up)\b")
SHIPPED_WORDS = re.compile(r"(?i)\b(?:shipped|sent|dispatched|posted)\b")


def _days_ago(m: re.Match, now: datetime) -> tuple[int, int] | None:
    """The range of days ago (inclusive) a time phrase names."""
    if m.group(1):
        return (0, 0) if m.group(1).lower() in ("today", "this morning") else (
            (1, 1) if m.group(1).lower() == "yesterday" else (0, 1))
    if m.group(2):
        count = int(m.group(2)) if m.group(2).isdigit() else NUMBER_WORDS[m.group(2).lower()]
        if m.group(3).lower().startswith("week"):
            return 7 * count - 3, 7 * count + 3
        return count, count
    if m.group(4):
        return {"last": (4, 13), "this": (0, now.weekday()), "a": (6, 8)}[m.group(4).lower()]
    back = (now.weekday() - WEEKDAYS.index(m.group(5).lower())) % 7 or 7
    return back, back


def _described(text: str, orders: list[OrderFact], now: datetime | None) -> Link | None:
    """Orders the words describe by status ("both pending ones") or by when something happened
    to them ("I ordered something yesterday", "the thing that arrived 12 days ago"), when no
    number, item or list points anywhere. R7: narrowing, never a guess — one fit is that order,
    several fit a plural ("both", "ones") all of them, several fit a singular: ask among them."""
    fits, plural = None, False
    m = STATUS_NAMES.search(text)
    if m:
        word = m.group(2).lower()
        wanted = {"unshipped": ("pending", "processing"),
                  "undelivered": ("pending", "processing", "shipped")}.get(word, (word,))
        fits = [o.id for o in orders if o.status in wanted]
        plural = bool(PLURAL.search(m.group(1) or "") or PLURAL.search(m.group(3)))
    m = NOT_YET.search(text) if fits is None else None
    if m:
        word = m.group(2).lower()
        wanted = (("pending", "processing") if word in ("shipped", "sent", "dispatched")
                  else ("pending", "processing", "shipped"))
        fits = [o.id for o in orders if o.status in wanted]
        plural = bool(re.match(r"(?i)every|all|the ones|orders|stuff|things|what|any", m.group(1)))
    m = WHEN.search(text)
    if m:
        now = (now or utcnow()).replace(tzinfo=None)
        low, high = _days_ago(m, now)
        near = text[max(0, m.start() - 60):m.end() + 30]
        kinds = [k for k, words in (("ordered_at", ORDERED_WORDS), ("delivered_at", DELIVERED_WORDS),
                                    ("shipped_at", SHIPPED_WORDS)) if words.search(near)]
        kinds = kinds or ["ordered_at", "delivered_at", "shipped_at"]

        def when(o: OrderFact) -> bool:
            for kind in kinds:
                at = getattr(o, kind)
                if at is not None and low <= (now.date() - at.replace(tzinfo=None).date()).days <= high:
                    return True
            return False
        dated = [o.id for o in orders if when(o)]
        fits = dated if fits is None else [oid for oid in fits if oid in dated]
    if fits is None:
        return None
    if not fits:  # described, but none of theirs fits: ask rather than let R7 pick another
        return Link(how="described")
    if len(fits) == 1 or plural:
        return Link(fits, how="described")
    return Link([], candidates=fits, how="described")


# "the replacement headphones you sent", "the new one you sent me" vs "the original kettle".
# "the new blender", "my new kettle" (where one of the two is a replacement): the replacement.
REPLACEMENT_REF = re.compile(r"(?i)\b(?:replacement|replaced one|(?:new|second) (?:one|ones|pair) "
                             r"(?:you|u) sent|(?:you|u) sent (?:me )?(?:instead|as a replacement)|"
                             r"(?:the|my|this|that) (?:brand )?new (?!one\b|ones\b|order\b)[a-z])")
# "the new one", "when will the new one arrive?": the replacement order, with nothing named.
NEW_ONE = re.compile(r"(?i)\b(?:the|my|that|this) new (?:one|ones|order|pair)\b")
ORIGINAL_REF = re.compile(r"(?i)\b(?:original|first one|old one)\b")


def _replacement_or_original(text: str, tied: list[OrderFact]) -> str | None:
    """An item bought once and replaced: the words say which of the two is meant."""
    sent = [o.id for o in tied if o.replacement_for]
    bought = [o.id for o in tied if not o.replacement_for]
    if REPLACEMENT_REF.search(text) and len(sent) == 1:
        return sent[0]
    if ORIGINAL_REF.search(text) and len(bought) == 1:
        return bought[0]
    return None


def _position(text: str, oid: str, orders: list[OrderFact]) -> int:
    """Where in the text an order is first named (by number, or by one of its item words)."""
    low = text.lower()
    spots = [low.find(oid.lower())]
    for o in orders:
        if o.id == oid:
            spots += [low.find(w) for name in o.items for w in re.findall(r"[a-z]{4,}", name.lower())]
    spots = [p for p in spots if p >= 0]
    return min(spots) if spots else len(text)


# "the $45 one", "the 15.99 one", "the thing that cost 24.99", "i want my 219 back": an order
# named by what it cost. Only a price one of their orders has counts, and it is never read as
# an order number.
PRICE_SAID = re.compile(
    r"(?i)(?:[$€£]\s?(\d{1,6}(?:[.,]\d{2})?)\b|\b(\d{1,6}[.,]\d{2})\b(?!\s*%)|"
    r"\b(\d{1,6}(?:[.,]\d{2})?)\s*(?:dollars|bucks|usd|eur|euros|pounds)\b|"
    r"\b(?:the|my)\s+(\d{1,6}(?:[.,]\d{2})?)\s+(?:one|order|thing|back)\b|"
    r"\bcost(?:s|ing)?\s+(?:me\s+)?(?:about\s+)?(\d{1,6}(?:[.,]\d{2})?)\b|"
    r"\bpaid\s+(\d{1,6}(?:[.,]\d{2})?)\b)")


def _by_price(text: str, orders: list[OrderFact]) -> tuple[list[str], str]:
    """The orders whose total is a price the words name, and the text with those prices blanked
    (so "15.99" is never order 15)."""
    hits: list[str] = []
    out = text
    for m in PRICE_SAID.finditer(text):
        raw = next(g for g in m.groups() if g)
        cents = round(float(raw.replace(",", ".")) * 100)
        fits = [o.id for o in orders if o.total_cents == cents]
        if fits:
            hits += [f for f in fits if f not in hits]
            a, b = m.span()
            out = out[:a] + " " * (b - a) + out[b:]
    return hits, out


def link(text: str, orders: list[OrderFact], listed: list[str] | None = None,
         focus: str | None = None, hint: str | None = None, now: datetime | None = None) -> Link:
    """`hint`: an order id the entity rules already read ("it's 7" after a question)."""
    text = ascii_digits(text)
    said = [m.group(0) for m in PRICE_SAID.finditer(text)]
    priced, text = _by_price(text, orders)
    if priced:
        numbers, _ = _numbers(text, orders, None)
        if not numbers:
            named, tied = _by_items(without_fine_items(text), orders, within_list=False)
            both = [p for p in priced if not named or p in named + tied] or priced
            if len(both) == 1:
                return Link(both, how="price")
            return Link([], candidates=both, how="price")
    if hint and any(hint in p for p in said):
        hint = None  # "my 219 back" is the chair's price, not order 219
    numbers, unknown = _numbers(text, orders, hint)
    if numbers:
        # "refund order 30101 and the telescope": numbers and items, in the text's order —
        # but words that name the numbered orders' own items ("the kettle from 31001") don't
        # point anywhere else.
        own = {w for o in orders if o.id in numbers for name in o.items
               for w in re.findall(r"[a-z]+", name.lower())}
        rest = " ".join(w for w in re.findall(r"[a-z0-9']+", without_fine_items(text).lower())
                        if not any(_same(t, w) for t in own))
        named, _ = _by_items(rest, [o for o in orders if o.id not in numbers], False,
                             distinctive=False)
        both = numbers + [n for n in named if n not in numbers]
        if len(both) > len(numbers):
            both.sort(key=lambda oid: _position(text, oid, orders))
        return Link(both, how="number")
    if unknown:
        named, _ = _by_items(text, orders, within_list=False)
        return Link(named, how="item" if named else "number", unknown_id=unknown)
    shown = [o for o in orders if o.id in (listed or [])]
    shown.sort(key=lambda o: (listed or []).index(o.id))
    picked = _from_list(text, shown, focus)
    if picked:
        return Link(picked, how="list")
    cue = ACTION_STATUS.search(text)
    if not shown and cue and PRICE_REF.search(text) and not _by_items(text, orders, False)[0]:
        # "refund the cheaper one" with no list on screen: among the orders the action fits
        fits = [o for o in orders if o.status in _FITS[cue.group(0).lower()[:4]]
                and not o.replacement_for]
        picked = _from_list(PRICE_REF.search(text).group(0), fits, None) if len(fits) > 1 else []
        if picked:
            return Link(picked, how="list")
    quiet = without_fine_items(text)
    every = EVERYTHING.search(quiet)
    if every:  # "cancel everything except the clock": every order the action could fit
        blanked = without_excluded_items(text)
        ruled_out = set(_by_items("".join(a if b == " " else " " for a, b in zip(
            text, blanked, strict=True)), orders, within_list=False)[0])
        cue = ACTION_STATUS.search(text)
        wanted = _FITS.get(cue.group(0).lower()[:4], None) if cue else None
        fits = [o.id for o in orders if o.id not in ruled_out
                and (wanted is None or o.status in wanted) and not o.replacement_for]
        if fits:
            return Link(fits, how="described")
    for words in dict.fromkeys((quiet, without_excluded_items(text))):
        # Items said to be fine don't count, unless nothing else is named at all.
        named, tied = _by_items(words, shown, within_list=True) if shown else ([], [])
        if len(named) != 1 or tied:
            named, tied = _by_items(words, orders, within_list=False)
        if named or tied:
            break
    if named and not tied:
        return Link(named, how="item")
    if tied:
        one = _replacement_or_original(text, [o for o in orders if o.id in tied])
        if one and not named:
            return Link([one], how="item")
        if not named and BOTH_OF.search(text):  # "refund both phone cases"
            return Link(sorted(tied, key=lambda oid: _position(text, oid, orders)), how="item")
        return Link(named, candidates=tied, how="item")
    if NEW_ONE.search(text):
        sent = [o for o in orders if o.replacement_for]
        fits = ([o.id for o in sent if focus in (o.id, o.replacement_for)]
                or ([sent[0].id] if len(sent) == 1 else []))
        if fits:
            return Link(fits[:1], how="item")
    described = _described(quiet, orders, now)
    if described is not None:
        return described
    recent = RECENCY_REF.search(text)
    if recent and orders:
        # "my most recent order", "my last purchase", "my first order": by the order date.
        pick = (min if recent.group(1).lower() in ("first", "oldest", "earliest") else max)(
            orders, key=lambda o: (o.ordered_at or o.delivered_at, o.id))
        return Link([pick.id], how="recency")
    if focus and FOCUS_REF.search(text) and any(o.id == focus for o in orders):
        return Link([focus], how="focus")
    return Link()
