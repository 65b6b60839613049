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


def _fix(word: str, vocabulary: tuple[str, ...]) -> str:
    """The closest word one slip away; two letters swapped beats one letter changed
    ("cancle" is cancel, "candel" is candle)."""
    low = word.lower()
    if low in SHORTHAND:
        return SHORTHAND[low]
    if low in REAL or low in vocabulary:
        return word
    near = [t for t in vocabulary if _close(low, t)]
    if not near:
        return word
    return min(near, key=lambda t: (
        DamerauLevenshtein.distance(low, t),
        DamerauLevenshtein.distance(low, t) == Levenshtein.distance(low, t),  # no swap: later
        vocabulary.index(t)))


def normalise(text: str, item_words: tuple[str, ...] = ()) -> str:
    """What the understanding reads: `item_words` are the customer's own item words
    ("jersey", "poles"), so their typos are fixed too."""
    text = MENTION.sub(" ", text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        text = text.lower()
    text = FOR_4.sub("for ", text)
    vocabulary = KEY_WORDS + tuple(w for w in item_words if len(w) >= 4)
    text = TOKEN.sub(lambda m: _fix(m.group(0), vocabulary), text)
    return re.sub(r"\s{2,}", " ", text).strip() or text
