"""Customers' spelling, made readable before anything tries to understand it.

"cancle my jersy ordr plz", "i wnt my mony bak", "cnacel teh trekking poels", "@shop
refund pls #fail 🙄", "WHERE IS MY MONITOR ARM": shorthand is spelled out, the shop's
key words and the customer's own item words are corrected when one slip away (an
edit or a swap of two letters), @-mentions and URLs go, and shouting is lowered. Order
numbers, amounts and e-mail addresses are never touched. The original text is kept for
the record; this is only what the understanding reads.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

SHORTHAND = {
    "pls": "please", "plz": "please", "plse": "please", "pleez": "please", "u": "you",
    "ur": "your", "r": "are", "thx": "thanks", "thnx": "thanks", "ty": "thanks",
    "wnt": "want", "wanna": "want to", "gonna": "going to", "gimme": "give me",
    "ordr": "order", "oder": "order", "ordered": "ordered", "mony": "money", "muney": "money",
    "bak": "back", "refnd": "refund", "rfund": "refund", "refun": "refund",
    "cancle": "cancel", "cancell": "cancel", "cansel": "cancel", "cncl": "cancel",
    "wheres": "where's", "wher": "where", "teh": "the", "hte": "the", "w": "with",
    "dont": "don't", "doesnt": "doesn't", "didnt": "didn't", "hasnt": "hasn't",
    "havent": "haven't", "isnt": "isn't", "cant": "can't", "wont": "won't", "im": "I'm",
    "ya": "yes", "yep": "yep", "wireles": "wireless", "yup": "yup", "tf": "", "wtf": "", "pkg": "package",
    "b4": "before", "2day": "today", "asap": "as soon as possible",
}
KEY_WORDS = ("refund", "cancel", "cancelled", "order", "replace", "replacement", "return",
             "money", "where", "delivered", "delivery", "shipped", "tracking", "exchange",
             "please", "broken", "damaged", "arrived", "package", "status", "received")
# Real words one slip away from a key word: never "corrected".
REAL = frozenset("""stopped shopped stepped older border orders cancer candle cancels refunds return returns money monkey
where there here were wear ware please pleased police arrive arrives delivery deliver
exchange shipped shopped slipped status statue state tracking trucking trading racking
replay repay replace broke broker damage damages package packages package""".split())
TOKEN = re.compile(r"(?<![\w\-#])[A-Za-z][A-Za-z']*(?![\w\-])")
MENTION = re.compile(r"(?<!\w)@\w+|https?://\S+|www\.\S+")
FOR_4 = re.compile(r"(?i)\b4 (?=it\b|me\b|that\b|them\b|this\b)")


def _close(word: str, target: str) -> bool:
    if abs(len(word) - len(target)) > 1 or len(word) < 4:
        return False
    # One slip only: two would turn real words into key words ("stopped" -> "shipped").
    swapped_start = word[:2] == target[1::-1]
    return ((word[0] == target[0] or swapped_start)
            and DamerauLevenshtein.distance(word, target) <= 1)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of three letters or more, from the vocabulary of the sentence model
    we ship (about 21,000): what a customer may have meant exactly as written."""
    try:
        from rag.embeddings import _packaged_model

        with (_packaged_model() / "vocab.txt").open(encoding="utf-8") as fh:
            return frozenset(w for w in (line.strip() for line in fh)
                             if len(w) >= 3 and w.isascii() and w.isalpha())
    except Exception:  # the model package is missing: fall back to REAL alone
        return frozenset()


STRETCHED = re.compile(r"([a-z])\1{2,}")


def _fix(word: str, vocabulary: tuple[str, ...]) -> str:
    """The closest word one slip away; two letters swapped beats one letter changed
    ("cancle" is cancel, "candel" is candle)."""
    low = word.lower()
    if STRETCHED.search(low) and not (word.isupper() and len(word) <= 5):  # not "BBB"
        # "chargerrrr", "pleaseeeee", "helpppp": the word drawn out, if one is meant
        for n in (2, 1):
            squeezed = STRETCHED.sub(lambda m, n=n: m.group(1) * n, low)
            if (squeezed in REAL or squeezed in vocabulary or squeezed in SHORTHAND
                    or squeezed in english_words()):
                return SHORTHAND.get(squeezed, squeezed)
    if low in SHORTHAND:
        return SHORTHAND[low]
    if low in REAL or low in vocabulary or low in english_words():
        return word  # a real word ("came") is never "corrected" into an item word ("case")
    near = [t for t in vocabulary if _close(low, t)]
    if not near:
        return word
    return min(near, key=lambda t: (
        DamerauLevenshtein.distance(low, t),
        DamerauLevenshtein.distance(low, t) == Levenshtein.distance(low, t),  # no swap: later
        vocabulary.index(t)))


# Phone autocorrect turns our words into other real words; only where the sentence shows it:
# "council my order", "a refuse for the blanket", "retune the mouse", "annul the order".
AUTOCORRECTED = (
    (re.compile(r"(?i)\bcouncil(?:led|ed)?(?=\s+(?:my|the|this|that|it|order|orders|#?\d))"),
     "cancel"),
    (re.compile(r"(?i)\b(?:a|the|my|full) refuse\b"), "a refund"),
    (re.compile(r"(?i)\brefuse(?=\s+(?:for|on|of)\s+(?:my|the|this|that|order|#?\d))"), "refund"),
    (re.compile(r"(?i)\bretune(?=\s+(?:my|the|this|that|it|them|order|#?\d))"), "return"),
    (re.compile(r"(?i)\bannul(?:led)?\b"), "cancel"),
)


def normalise(text: str, item_words: tuple[str, ...] = ()) -> str:
    """What the understanding reads: `item_words` are the customer's own item words
    ("jersey", "poles"), so their typos are fixed too."""
    text = MENTION.sub(" ", text)
    for pattern, meant in AUTOCORRECTED:
        text = pattern.sub(meant, text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        text = text.lower()
    text = FOR_4.sub("for ", text)
    vocabulary = KEY_WORDS + tuple(w for w in item_words if len(w) >= 4)
    text = TOKEN.sub(lambda m: _fix(m.group(0), vocabulary), text)
    text = take_back(text, tuple(w.lower() for w in item_words))
    return re.sub(r"\s{2,}", " ", text).strip() or text


# --- a correction in the same breath ---------------------------------------------------------
# "cancel the candle - no sorry, I mean the throw pillow", "refund 31201 - sorry typo, 31202",
# "refund the blue phone case. sorry, I mean the black one", "cancel the phone case, oh sorry
# I meant refund the mouse": what comes after the correction replaces what it takes back, so
# the understanding never reads the retracted order (or action) as a request.
ACTION_CUE = re.compile(r"(?i)\b(?:refund\w*|money back|reimburs\w*|cancel\w*|return\w*|replac\w*|"
                        r"exchange\w*|swap|send (?:it |them )?back|where(?:'s| is| are)?|track\w*|"
                        r"status(?: of)?)\b")
# Words that, after a break, say the customer meant something else. Strong ones say it alone;
# weak ones ("no", "sorry", "actually") only when what follows is a bare target or action.
_STRONG = (r"i mean(?:t)?(?: to say)?|i should have said|make (?:that|it)|scratch that|"
           r"correction|(?:that was a )?typo|my bad|my mistake|wrong (?:one|order|number|item)")
_WEAK = r"no+|nope|sorry|oops|whoops|oh|wait|hang on|hold on|actually|or rather|rather|not that"
TAKE_BACK = re.compile(
    rf"(?i)(?:\s*[-–—,;:.!…]+\s*|\s+)((?:(?:{_WEAK}|{_STRONG})\b[\s,!.:;…-]*)+)")
STRONG = re.compile(rf"(?i)\b(?:{_STRONG})\b")
# "not the candle but the pillow", "the pillow, not the candle"
NOT_BUT = re.compile(r"(?i)\bnot\s+((?:the|my|order|#)?\s*[\w#-]+(?:\s+[\w-]+){0,3}?)\s*,?\s+but\s+"
                     r"(?:rather\s+)?(?=(?:the|my|order|#)?\s*[\w#])")
BUT_NOT = re.compile(r"(?i)\s*,?\s+(?:and\s+)?not\s+(?:the|my)\s+[\w-]+(?:\s+[\w-]+){0,2}\s*(?=[.!?]*\s*$)")
ADDING = re.compile(r"(?i)^(?:and|also|plus)\b|\b(?:too|also|as well|another)\b")
CLAUSE_VERB = re.compile(r"(?i)\b(?:is|are|was|were|has|have|had|did|does|do|it'?s|they'?re|came|"
                         r"arrived|broke|got|for|to|about|with|bother|trouble|delay|late)\b")
ORDER_NO = re.compile(r"(?i)\b(?:order|ord|number|nr|item|ref)\s*$")  # "order no. 37 101"
PRONOUN = re.compile(r"(?i)\b(?:it|them|that one|this one|that|this)\b")
ARTICLE = re.compile(r"(?i)^(?:the|my|a|an|that|this|order|#)\s+")
TARGET_END = re.compile(r"(?i)\s*(?:[,;:.!?]|\s-\s|\b(?:because|since|as|it'?s|it|they|which|"
                        r"please|pls)\b)")
LONE_ONE = re.compile(r"(?i)^((?:the|my|that)\s+)?([\w-]+\s+)?ones?$")


def _is_target(words: str, item_words: tuple[str, ...], loose: bool = True) -> bool:
    """A bare order or item: "31202", "the throw pillow", "the black one" (`loose`: any "the
    …" after an unmistakable "I mean")."""
    words = words.strip(" .,!?;:-")
    if not words or len(words.split()) > 6 or CLAUSE_VERB.search(words):
        return False
    low = words.lower()
    return bool(re.search(r"\d{3,}", low) or LONE_ONE.match(low)
                or any(w in item_words for w in re.findall(r"[a-z]+", low))
                or loose and re.match(r"(?:the|my|that)\s+\w+", low))


def _names_one(words: str, item_words: tuple[str, ...]) -> bool:
    low = words.lower()
    return bool(re.search(r"\d{3,}", low) or any(w in item_words for w in re.findall(r"[a-z]+", low)))


def take_back(text: str, item_words: tuple[str, ...] = ()) -> str:
    """The message with what the customer took back replaced by what they meant."""
    m = NOT_BUT.search(text)
    if m and ACTION_CUE.search(text[:m.start()]) and _names_one(m.group(1), item_words):
        text = text[:m.start()] + text[m.end():]  # "refund not the chair but the mouse"
    m = BUT_NOT.search(text)
    if m and ACTION_CUE.search(text[:m.start()]) and _names_one(m.group(0), item_words):
        text = text[:m.start()] + text[m.end():]  # "refund the mouse, not the chair"
    for m in reversed(list(TAKE_BACK.finditer(text))):
        before, after = text[:m.start()], text[m.end():].strip()
        cues = list(ACTION_CUE.finditer(before))
        if (not cues and after and not ADDING.search(after)
                and _is_target(before, item_words, loose=False)
                and _is_target(after, item_words, loose=False)
                and not (re.match(r"(?i)no", m.group(1)) and ORDER_NO.search(before))):
            return after  # "the chair. no wait, the mouse" (answering "which one?")
        if (not cues or not after or ADDING.search(after)
                or re.match(r"(?i)no", m.group(1)) and ORDER_NO.search(before)):
            continue
        strong = bool(STRONG.search(m.group(1)))
        cue = cues[-1]
        target_end = TARGET_END.search(before, cue.end())
        end = target_end.start() if target_end else len(before)
        target = before[cue.end():end].strip()
        own = ACTION_CUE.search(after)
        if own and (strong or own.start() == 0 and not own.group(0).lower().startswith(
                ("where", "track", "status"))):
            # "oh sorry I meant refund the mouse": the action and the order are both new
            rest = after[own.end():].strip(" .!")
            if target and (not rest or PRONOUN.fullmatch(rest.split(" ", 1)[0])):
                after = after[:own.end()] + " " + (PRONOUN.sub(target, rest, count=1)
                                                   if rest else target)
            return (before[:cue.start()] + after).strip()
        if own:
            continue
        # "I meant the pillow because I don't need it": the target, then what is said about it
        cut = TARGET_END.search(after)
        tail = after[cut.start():].strip() if cut and cut.start() > 0 else ""
        after = after[:cut.start()] if cut and cut.start() > 0 else after
        if not strong and re.match(r"(?i)(?:for|about|to|if|that)\b", after.strip()):
            continue  # "sorry for the essay", "sorry to bother you"
        after = re.sub(r"(?i)^(?:for|on|of|with|about)\s+", "", after.strip())
        if not _is_target(after, item_words, loose=strong):
            continue
        number_word = re.match(r"(?i)(?:order|ord|no\.?)\s*#?\s*(?=\d)", target)
        if number_word and re.fullmatch(r"#?\s*\d[\w-]*", after.strip(" .!")):
            after = number_word.group(0) + after.strip(" .!")  # "order 31303… I meant 31302"
        one = LONE_ONE.match(after.strip(" .!").lower())
        if one and target:
            words = ARTICLE.sub("", target).split()
            if one.group(2) and len(words) > 1:
                words = words[1:]  # "the blue phone case" -> "the black" + "phone case"
            after = f"{one.group(1) or 'the '}{one.group(2) or ''}{' '.join(words)}"
        lead = re.match(r"(?i)(?:for|on|of|with|about)\s+", target)  # "money back for …"
        lead = lead.group(0) if lead else ""
        tail = (tail if tail[:1] in ",.!?;:" else " " + tail) if tail.strip(" .!?") else tail
        return (before[:cue.end()] + " " + lead + after.strip() + before[end:] + tail).strip()
    return text
