"""What a password chosen in the portal must be (sign-up and password change).

Long enough (PASSWORD_MIN_LENGTH, 12 by default), not on the common-password list shipped
beside this file, not a common password with digits or symbols stuck on the end
("Password2026!"), not one character repeated, not the person's name or email. Length plus a
block list is what NIST SP 800-63B asks for; no rules about mixing character classes, which
make passwords harder to remember and no harder to guess.

Accounts loaded from a fixture (`init_db.py --seed-file`) or the demo data are not checked:
those passwords are chosen by whoever runs the shop, not typed into a form.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
MAX_LENGTH = 200
MIN_DISTINCT = 5
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def _base(password: str) -> str:
    """The word in front of the digits and symbols people add to meet a rule."""
    return _TRAILING.sub("", password.lower())


def problem(password: str, *, min_length: int = 12, email: str | None = None,
            name: str | None = None) -> str | None:
    """Why this password is refused, in words for the person choosing it; None if it is fine."""
    password = password or ""
    if len(password) < min_length:
        return (f"Use at least {min_length} characters. A few unrelated words together are long "
                "and easy to remember.")
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered, base = password.lower(), _base(password)
    common = common_passwords()
    if lowered in common or lowered.replace(" ", "") in common or (base and base in common):
        return ("That password is too common: it is on the lists attackers try first. Please "
                "choose another — a few unrelated words work well.")
    if len(set(lowered)) < MIN_DISTINCT:
        return "That password repeats the same few characters. Please choose another."
    personal = set()
    if email:
        personal |= {email.strip().lower(), email.strip().lower().split("@")[0]}
    if name:
        personal |= {name.strip().lower(), name.strip().lower().replace(" ", "")}
        personal |= {part for part in name.strip().lower().split() if len(part) >= 3}
    if lowered in personal or (base and base in personal):
        return "Don't base your password on your name or email address."
    return None
