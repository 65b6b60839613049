"""Normalise a customer message for the intent classifier's word and character features.

Social-media messages carry noise that says nothing about the intent ("@ShopSupport", links,
"#fail", emoji, "pleeease"), and a few emoji that do (😡 is anger, 🙏 is please). Order numbers
are kept as written ("#1042" stays "#1042"): they tell a request about an order from a general
question. Only the classifier sees this text; entities and rules read the original message.
"""

from __future__ import annotations

import re

URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
MENTION = re.compile(r"(?<![\w.])@\w+")
# "#fail" -> "fail", "#NeverAgain" -> "never again"; "#1042", "# 1042" and "#A-100" are orders.
HASHTAG = re.compile(r"#(?=[A-Za-z_]*[A-Za-z]{2})([A-Za-z_]\w*)")
CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Three or more of one letter are two ("pleeease" -> "pleease", "sooo" -> "soo", "goood" ->
# "good"); digits are never touched (order 1000).
REPEATED_LETTER = re.compile(r"([^\W\d_])\1{2,}")
# The emoji customers use to say something about what they want, as words the training data
# already knows; every other emoji and pictograph is dropped.
EMOJI_WORDS = {
    "😡": " angry ", "🤬": " angry ", "😤": " annoyed ", "😠": " angry ", "👿": " angry ",
    "🙄": " annoyed ", "😒": " annoyed ", "😑": " annoyed ", "🙃": " annoyed ",
    "😭": " sad ", "😢": " sad ", "💔": " broken ", "💥": " broken ",
    "🙏": " please ", "👍": " ok ", "👌": " ok ", "✅": " ok ",
    "❤": " love ", "😍": " love ", "🥰": " love ", "🔥": " great ",
    "👋": " hello ", "📦": " package ", "🚚": " delivery ", "💸": " money ", "💰": " money ",
    "💳": " card ", "🤔": " question ", "❓": " question ", "❌": " no ",
}
PICTOGRAPH = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\U000E0000-\U000E007F]")
SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-cased text without mentions, links, hashtag marks, emoji noise or stretched words."""
    text = URL.sub(" ", text)
    text = MENTION.sub(" ", text)
    text = HASHTAG.sub(lambda m: " " + CAMEL.sub(" ", m.group(1)).replace("_", " ") + " ", text)
    for emoji, words in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, words)
    text = PICTOGRAPH.sub(" ", text)
    text = REPEATED_LETTER.sub(r"\1\1", text.lower())
    return SPACES.sub(" ", text).strip()
