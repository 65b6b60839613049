"""Password hashing (scrypt through werkzeug); plain text is never stored.

Sign-ups and staff accounts always get werkzeug's full scrypt cost (N = 2^15, r = 8, p = 1:
about 100 ms and 32 MB a hash, which is what makes a stolen hash expensive to guess). Fixture
customers — generated test, demo and benchmark shops loaded by `init_db.py --seed-file` — are
hashed at FIXTURE_PASSWORD_COST (scrypt N, default 2^10: about 3 ms), so a 1,000-customer
fixture loads in seconds instead of minutes. The cost is stored in each hash, so verification
is the same for both; set FIXTURE_PASSWORD_COST=32768 to hash fixture customers like sign-ups.
"""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

SIGN_UP_COST = 2**15          # werkzeug's default scrypt N
FIXTURE_COST_DEFAULT = 2**10
FIXTURE_COST_MIN = 2**10      # never below this, whatever the setting says


def hash_password(plain: str, cost: int | None = None) -> str:
    """A new hash; `cost` (scrypt N, a power of two) only ever lowers the work for fixture
    customers (db/seed.py) and is never below FIXTURE_COST_MIN or above the sign-up cost."""
    if cost is None or cost >= SIGN_UP_COST:
        return generate_password_hash(plain)
    if cost < FIXTURE_COST_MIN or cost & (cost - 1):
        raise ValueError(f"password cost must be a power of two >= {FIXTURE_COST_MIN}")
    return generate_password_hash(plain, method=f"scrypt:{cost}:8:1")


def fixture_cost() -> int:
    """FIXTURE_PASSWORD_COST (environment or .env, like every setting): scrypt N for fixture
    customers."""
    from pydantic_settings import BaseSettings, SettingsConfigDict

    from config import ROOT

    class _Cost(BaseSettings):
        model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore")
        fixture_password_cost: int = FIXTURE_COST_DEFAULT

    cost = _Cost().fixture_password_cost
    if cost < FIXTURE_COST_MIN or cost & (cost - 1):
        raise ValueError(f"FIXTURE_PASSWORD_COST must be a power of two >= {FIXTURE_COST_MIN}")
    return min(cost, SIGN_UP_COST)


def verify_password(hashed: str, plain: str) -> bool:
    return bool(hashed) and check_password_hash(hashed, plain)
