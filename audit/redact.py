"""PII redaction applied to customer text before it reaches any log or audit line.

Order numbers are short digit runs and must survive; card numbers are recognised
by length plus the Luhn check, phone numbers by their formatting or by a phone
word in front of a bare digit run, so "order 3707955617" is left alone while
"call me on 3707955617" is not.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# "bob at example dot com", "bob (at) example (dot) com"
SPELLED_EMAIL = re.compile(
    r"(?i)\b[a-z0-9._%+\-]+\s*(?:\(at\)|\[at\]|\sat\s)\s*[a-z0-9\-]+"
    r"(?:\s*(?:\(dot\)|\[dot\]|\sdot\s)\s*[a-z0-9\-]+)+\b")
CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
PHONE_FORMATTED = re.compile(
    r"(?<![\w])(?:\+\d{1,3}[\s.\-]?)?(?:\(\d{2,4}\)[\s.\-]?|\d{2,4}[\s.\-])\d{3,4}[\s.\-]\d{3,4}(?![\w])"
    r"|(?<![\w])\+\d{8,15}(?!\d)"
)
PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|call|tel|telephone|mobile|cell|whatsapp|text me|reach me|sms)\b[^\d\n]{0,20}(\d[\d\s.\-]{6,16}\d)"
)
# A bare 10-digit North American number (or 1 + 10 digits) is a phone number unless the words
# just before it call it an order, a tracking number or a reference.
BARE_PHONE = re.compile(r"(?<![\w#\-])1?[2-9]\d{2}[2-9]\d{6}(?!\d)")
NOT_A_PHONE_BEFORE = re.compile(
    r"(?i)(?:order|ord|purchase|package|parcel|shipment|tracking|ref|reference|invoice|#)"
    r"[\s\w.:#]{0,12}$")
CVV = re.compile(r"(?i)\b(cvv2?|cvc|csc|security code)(\W{0,3})\d{3,4}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")


def is_bare_phone(text: str, start: int) -> bool:
    """Is the bare digit run starting at `start` a phone number rather than an order number?"""
    match = BARE_PHONE.match(text, start)
    return bool(match) and not NOT_A_PHONE_BEFORE.search(text[max(0, start - 30):start])


def _bare_phone(match: re.Match) -> str:
    return "[PHONE]" if is_bare_phone(match.string, match.start()) else match.group(0)


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


def redact(text: str) -> str:
    if not text:
        return text
    text = EMAIL.sub("[EMAIL]", text)
    text = SPELLED_EMAIL.sub("[EMAIL]", text)
    text = CARD_CANDIDATE.sub(_card, text)
    text = IBAN.sub("[IBAN]", text)
    text = SSN.sub("[SSN]", text)
    text = PHONE_CONTEXT.sub(lambda m: m.group(0).replace(m.group(1), "[PHONE]"), text)
    text = PHONE_FORMATTED.sub("[PHONE]", text)
    text = BARE_PHONE.sub(_bare_phone, text)
    text = CVV.sub(lambda m: f"{m.group(1)}{m.group(2)}[CVV]", text)
    return text


def redact_obj(value: Any) -> Any:
    """Redact every string inside a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value
