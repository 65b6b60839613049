"""PII redaction applied to customer and staff text before it is written anywhere.

SPEC "Audit record": the database, the audit trail and the logs never hold emails, phone
numbers, card or bank numbers, SSNs, street addresses or dates of birth raw. Support work
still needs the rest of the message, so order numbers (`order 1042`, `#31001`, `ORD-1042`,
even a 10-digit `order 3707955617`), prices, quantities, years, delivery dates and tracking
numbers must come through unchanged.

Phone numbers: a cheap pattern finds runs of digit groups; a run written internationally
(+44 ...) is a phone when `phonenumbers` finds it possible, a North American shape is a
phone outright, and anything else only when `phonenumbers`' matcher, with strict grouping,
finds a valid number of one of REGIONS spanning the whole run. Whatever the words just before
call an order, a tracking number or a reference stays, as do dates.

Every message and log line passes through here, so every pattern has bounded quantifiers
(constant work per starting position: linear time, no catastrophic backtracking). Run over
a whole 4000-character text once per region, the library's matcher takes 50-900 ms, so it
only ever sees the short candidate runs, at most PHONE_LOOKUPS distinct ones per text; past
that budget a run is redacted unchecked (failing closed, never slow).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

REGIONS = ("US", "GB", "DE", "FR", "IN", "AU", "ES", "IT", "NL", "BR")
PHONE_LOOKUPS = 12

# The local part is matched possessively and only from its first character, so a long run
# with no "@" in it is read once, not once per starting position.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]++"
                   r"@(?:[A-Za-z0-9\-]{1,63}\.){1,8}[A-Za-z]{2,24}\b")
# "bob at example dot com", "bob (at) example (dot) com"
SPELLED_EMAIL = re.compile(
    r"(?i)(?<![a-z0-9._%+\-])[a-z0-9._%+\-]++"
    r"\s{0,3}(?:\(at\)|\[at\]|\sat\s)\s{0,3}[a-z0-9\-]{1,63}"
    r"(?:\s{0,3}(?:\(dot\)|\[dot\]|\sdot\s)\s{0,3}[a-z0-9\-]{1,63}){1,4}\b")
CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ \-]?){12,18}\d(?!\d)")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")
SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
CVV = re.compile(r"(?i)\b(cvv2?|cvc|csc|security code)(\W{0,3})\d{3,4}\b")

# Dates of birth: a date is only PII when the words right before it say birth.
MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?"
DATE = (rf"(?:\d{{1,4}}[./\-]\d{{1,2}}[./\-]\d{{2,4}}"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s{{1,3}}(?:of\s{{1,3}})?{MONTH},?\s{{1,3}}\d{{4}}"
        rf"|{MONTH}\s{{1,3}}\d{{1,2}}(?:st|nd|rd|th)?,?\s{{1,3}}\d{{4}})")
DATE_OF_BIRTH = re.compile(
    rf"(?i)\b(d\.?o\.?b\b\.?|date of birth|birth\s?date|born|birthday)"
    rf"([^\w\n]{{0,3}}(?:(?:is|was|on)\s{{1,3}}){{0,2}}[^\w\n]{{0,3}}){DATE}")

# Street addresses: house number, one to four name words, a street-type word; then perhaps a
# flat, a town and a postcode. Lower-case names ("12 main street") only count after "I live
# at", "ship it to", "address:" (so "2 boxes on the way" stays).
STREET_TYPE = (r"(?:street|st|road|rd|avenue|ave|boulevard|blvd|lane|ln|drive|dr|court|ct|"
               r"place|pl|parkway|pkwy|way|terrace|close|crescent|square|sq|highway|hwy|row|"
               r"mews|gardens|grove)\b\.?")
UNIT = r"(?:,?\s{1,2}(?i:apt|apartment|suite|ste|unit|flat|floor)\.?\s{0,2}#?[\w\-]{1,6})?"
UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s{0,2}\d[A-Z]{2}\b"
US_ZIP = r"\d{5}(?:-\d{4})?\b"
TOWN_AND_POSTCODE = (rf"(?:(?:,?\s{{1,2}}[A-Z][a-z]{{1,20}}(?:\s[A-Z][a-z]{{1,20}}){{0,2}}){{0,3}}"
                     rf",?\s{{1,2}}(?:[A-Z]{{2}}\s{{1,2}})?(?:{UK_POSTCODE}|{US_ZIP}))?")
STREET_ADDRESS = re.compile(
    rf"(?<![\w#$€£.,/\-])\d{{1,5}}[A-Za-z]?\s{{1,2}}"
    rf"(?P<name>(?:[A-Za-z0-9][\w'\-]{{0,24}}\s{{1,2}}){{1,4}})(?i:{STREET_TYPE})"
    rf"{UNIT}{TOWN_AND_POSTCODE}")
CAPITALISED_NAME = re.compile(r"[A-Z]|\d{1,3}(?:st|nd|rd|th)\b")
ADDRESS_JUST_BEFORE = re.compile(
    r"(?i)(?:\blive at|\b(?:ship|send|deliver|post|mail)\w{0,3}(?:\s\w{1,12}){0,2}\sto"
    r"|\baddress(?:\s{1,3}is)?\s{0,2}:?)\s{0,2}$")
# "address: ..." / "my address is ..." up to the end of the clause (not "the address is wrong").
CLAUSE = (r"(?:[^.;!?\n]|\.(?=\w)){1,100}?"
          r"(?=[.;!?\n]|,?\s(?i:and|but|so|order|please|thanks?)\b|$)")
ADDRESS_GIVEN = re.compile(
    rf"\b((?i:address)(?:\s{{1,3}}is\s{{1,3}}(?=[\dA-Z])|\s{{0,2}}:\s{{0,3}}(?=\w))){CLAUSE}")
POSTCODE_GIVEN = re.compile(
    rf"\b((?i:post\s?code|zip(?:\s?code)?)\s{{0,2}}(?:is\s{{1,2}}|:\s{{0,2}})?)"
    rf"(?:{UK_POSTCODE}|{US_ZIP})")

# Phone numbers. A candidate is a run of digit groups, never started inside a word, a price,
# "#1042", "ORD-1042" or a longer run; what it is gets decided in _phone_by_shape/_dialable.
PHONE_CANDIDATE = re.compile(
    r"(?<![\w+$€£#.,/\-])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,5}\)[ .\-]?)?"
    r"\d{1,15}(?:[ .\-](?:\(\d{1,10}\)|\d{1,10})){0,5}(?![\w/])")
PHONE_WORD_THEN_NUMBER = re.compile(
    r"(?i)\b(phone|call|tel|telephone|mobile|cell|whatsapp|text me|reach me|sms)\b"
    r"([^\d\n+(]{0,20})([+(]?\d[\d\s().\-]{5,20}\d)")
# North American: formatted (415) 555-0199 / 415.555.0199, or a bare 10 digits (1 + 10).
NANP = re.compile(r"(?:\+?1[ .\-]?)?(?:\(\d{3}\)[ .\-]?|\d{3}[ .\-])\d{3}[ .\-]\d{4}"
                  r"|1?[2-9]\d{2}[2-9]\d{6}")
BARE_DIGITS = re.compile(r"(?<![\w#\-+])\d{7,15}(?!\d)")
DATE_LIKE = re.compile(r"\d{4}[.\-]\d{1,2}[.\-]\d{1,2}|\d{1,2}[.\-]\d{1,2}[.\-]\d{2,4}")
NOT_A_PHONE_BEFORE = re.compile(
    r"(?i)(?:order|ord|purchase|package|parcel|shipment|tracking|ref|reference|invoice|#)"
    r"[\s\w.:#]{0,12}$")


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


def _phone_by_shape(text: str, start: int, raw: str) -> bool | None:
    """The cheap verdict on a digit run: True or False, or None when only phonenumbers can tell."""
    if not 7 <= sum(ch.isdigit() for ch in raw) <= 15:
        return False
    if raw.startswith("+"):
        return None
    if NOT_A_PHONE_BEFORE.search(text[max(0, start - 30):start]) or DATE_LIKE.fullmatch(raw):
        return False
    return True if NANP.fullmatch(raw) else None


@lru_cache(maxsize=4096)
def _dialable(raw: str) -> bool:
    """+44 ...: a possible number. Otherwise: a valid number of one of REGIONS, grouped as
    that country groups it, and the whole run (so "2026 11 05" or "100 200 300" are not)."""
    if raw.startswith("+"):
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(raw, None))
        except phonenumbers.NumberParseException:
            return False
    for region in REGIONS:
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(raw, region))
        except phonenumbers.NumberParseException:
            continue
        # the matcher is ten times dearer than parse: only asked about grouping once valid
        if valid and any(m.start == 0 and m.end == len(raw) for m in
                         PhoneNumberMatcher(raw, region, leniency=Leniency.STRICT_GROUPING)):
            return True
    return False


def is_bare_phone(text: str, start: int) -> bool:
    """Is the bare digit run starting at `start` a phone number rather than an order number?"""
    match = BARE_DIGITS.match(text, start)
    if not match:
        return False
    verdict = _phone_by_shape(text, start, match.group(0))
    return _dialable(match.group(0)) if verdict is None else verdict


def _redact_phones(text: str) -> str:
    verdicts: dict[str, bool] = {}  # distinct runs asked of phonenumbers in this text

    def phone(match: re.Match) -> str:
        raw = match.group(0)
        verdict = _phone_by_shape(text, match.start(), raw)
        if verdict is None:
            if raw not in verdicts:
                verdicts[raw] = len(verdicts) >= PHONE_LOOKUPS or _dialable(raw)
            verdict = verdicts[raw]
        return "[PHONE]" if verdict else raw

    return PHONE_CANDIDATE.sub(phone, text)


def _phone_after_word(match: re.Match) -> str:
    """"call me on 555-0199": a phone word makes any digit run a phone, bar orders and dates."""
    if _phone_by_shape(match.string, match.start(3), match.group(3)) is False:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}[PHONE]"


def _street_address(match: re.Match) -> str:
    before = match.string[max(0, match.start() - 40):match.start()]
    if NOT_A_PHONE_BEFORE.search(before[-8:]):  # "order 1042 Main Street": an order number
        return match.group(0)
    if CAPITALISED_NAME.match(match.group("name")) or ADDRESS_JUST_BEFORE.search(before):
        return "[ADDRESS]"
    return match.group(0)


def redact(text: str) -> str:
    if not text:
        return text
    text = EMAIL.sub("[EMAIL]", text)
    text = SPELLED_EMAIL.sub("[EMAIL]", text)
    text = CARD_CANDIDATE.sub(_card, text)
    text = IBAN.sub("[IBAN]", text)
    text = SSN.sub("[SSN]", text)
    text = DATE_OF_BIRTH.sub(r"\1\2[DOB]", text)
    text = ADDRESS_GIVEN.sub(r"\1[ADDRESS]", text)
    text = STREET_ADDRESS.sub(_street_address, text)
    text = POSTCODE_GIVEN.sub(r"\1[ADDRESS]", text)
    text = PHONE_WORD_THEN_NUMBER.sub(_phone_after_word, text)
    text = _redact_phones(text)
    text = CVV.sub(r"\1\2[CVV]", text)
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
