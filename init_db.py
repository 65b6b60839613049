"""Set up the data: schema, demo shop or a fixture, the policy index and the intent model.

    python init_db.py                          # migrate + demo data (once) + index + model
    python init_db.py --seed-file F.json       # load a fixture (SPEC format) instead
    python init_db.py --seed-file F.json --reset   # replace everything with the fixture

Safe to run twice. A malformed fixture exits with status 2, a message naming the
bad field, and the database exactly as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from config import DATA_DIR, get_settings
from db.demo_data import DEMO_CUSTOMER_PASSWORD, demo_fixture
from db.engine import create_schema, engine_from_settings, make_session_factory
from db.fixture_schema import FixtureError, parse_fixture
from db.seed import has_users, load_fixture

CREDENTIALS_FILE = DATA_DIR / "demo_logins.txt"


def _fail(message: str) -> int:
    print(f"init_db: error: {message}", file=sys.stderr)
    return 2


def _load_seed_file(factory, path: Path, reset: bool) -> int:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(f"{path}: cannot read ({exc})")
    except json.JSONDecodeError as exc:
        return _fail(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    try:
        counts = load_fixture(factory, parse_fixture(data), reset=reset)
    except FixtureError as exc:
        return _fail(f"{path}: {exc}; nothing was changed")
    print(f"Loaded {path}: {counts['users']} users, {counts['orders']} orders, "
          f"{counts['refunds']} refunds{' (database reset first)' if reset else ''}.")
    return 0


def _load_demo(factory, reset: bool) -> int:
    if has_users(factory) and not reset:
        print("Demo data already present; left as it is.")
        return 0
    staff_password = os.environ.get("DEMO_STAFF_PASSWORD")
    fixture = demo_fixture(staff_password)
    load_fixture(factory, parse_fixture(fixture), reset=reset)
    staff = next(u for u in fixture["users"] if u.get("role") == "staff")
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS_FILE.write_text(
        "Demo logins (portal http://127.0.0.1:5000)\n"
        + "".join(f"  customer  {u['email']:<22} {DEMO_CUSTOMER_PASSWORD}\n"
                  for u in fixture["users"] if u.get("role") != "staff")
        + f"  staff     {staff['email']:<22} {staff['password']}\n", encoding="utf-8")
    os.chmod(CREDENTIALS_FILE, 0o600)
    print(f"Loaded the demo shop; logins are in {CREDENTIALS_FILE}.")
    return 0


def _build_models(settings) -> None:
    """The policy index and the intent classifier are cached by content hash: cheap when fresh."""
    from agents.intent_model import load_or_train
    from rag.embeddings import load_embedder
    from rag.policy_index import PolicyIndex

    embedder = load_embedder()
    index = PolicyIndex.load_or_build(settings.policies_dir, settings.index_dir, embedder)
    print(f"Policy index ready: {index.chunk_count} sections from {settings.policies_dir}.")
    model = load_or_train(settings.model_dir, embedder)
    print(f"Intent model ready ({model.trained_on} training examples).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-file", type=Path, help="load this fixture instead of the demo")
    parser.add_argument("--reset", action="store_true", help="delete all data before loading")
    parser.add_argument("--skip-models", action="store_true",
                        help="do not build the policy index and the intent model")
    args = parser.parse_args(argv)

    settings = get_settings()
    engine = engine_from_settings(settings)
    try:
        create_schema(engine)  # alembic upgrade head; an old database is adopted (db/migrate.py)
        factory = make_session_factory(engine)
        if args.seed_file:
            status = _load_seed_file(factory, args.seed_file, args.reset)
        else:
            status = _load_demo(factory, args.reset)
    finally:
        engine.dispose()
    if status == 0 and not args.skip_models:
        _build_models(settings)
    return status


if __name__ == "__main__":
    sys.exit(main())
