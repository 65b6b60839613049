"""Noisy copies of our hand-written training examples, the way people write on social media.

"@TheShop refnud pls 😩 #ugh": customers tag the shop, add emoji and hashtags, drop capitals
and punctuation and slip a letter. The Bitext and hand-written examples are mostly tidy, so
the intent classifier is also trained on one noisy copy of each hand-written example. A copy
is made by a generator seeded with the example's own text: training stays deterministic, and
a copy never depends on which other examples are in the training set.
"""

from __future__ import annotations

import hashlib
import random

MENTIONS = ("@support", "@TheShop", "@customercare", "@shop_uk", "@HelpTeam")
HASHTAGS = ("#help", "#customerservice", "#nothappy", "#please", "#urgent", "#sad",
            "#seriously", "#ugh", "#thanks")
EMOJI = ("🙄", "😡", "🙏", "😭", "😂", "👀", "😤", "🙃", "😩", "🤦", "💯", "😒", "😊", "👍")


def typo(word: str, rng: random.Random) -> str:
    """One slip inside a word of four letters or more: a letter dropped, swapped, doubled or
    a vowel mistyped. First and last letters stay, as they mostly do when people slip."""
    if len(word) < 4 or not word.isalpha():
        return word
    i, kind = rng.randrange(1, len(word) - 1), rng.random()
    if kind < 0.3:
        return word[:i] + word[i + 1:]
    if kind < 0.55:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.75:
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiou") + word[i + 1:]


def noisy_copy(text: str, seed: int = 0) -> str:
    rng = random.Random(int(hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()[:16], 16))
    if rng.random() < 0.6:
        text = text.lower()
    words = text.split()
    for _ in range(rng.choice((0, 1, 1, 2))):
        j = rng.randrange(len(words))
        words[j] = typo(words[j], rng)
    text = " ".join(words)
    if rng.random() < 0.4:
        text = text.rstrip(".!?")
    if rng.random() < 0.4:
        text = f"{rng.choice(MENTIONS)} {text}"
    if rng.random() < 0.4:
        text = f"{text} {rng.choice(EMOJI)}"
    if rng.random() < 0.3:
        text = f"{text} {rng.choice(HASHTAGS)}"
    return text
