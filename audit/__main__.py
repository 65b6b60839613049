"""The audit trail from the command line.

    python -m audit verify [--database-url URL] [--jsonl PATH] [--no-database]
    python -m audit export [--database-url URL] [--jsonl PATH]

`verify` walks the whole hash chain in the database (DATABASE_URL unless given) and, with
`--jsonl`, checks that file's own chain and that it holds exactly the database's records. It
names the first record that was changed, removed or inserted, and exits 0 when everything
holds, 1 when something does not. `export` writes whatever the JSONL file at AUDIT_LOG_PATH is
missing (the API does this by itself; this is for a server that is not running).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import inspect


def _engine(url: str | None):
    from config import get_settings
    from db.engine import make_engine

    return make_engine(url or get_settings().database_url)


def _print(label: str, report) -> bool:
    if report.ok:
        print(f"{label}: OK — {report.checked} record(s), chain intact")
    else:
        print(f"{label}: BROKEN — {report.finding.message}")
    for note in report.notes:
        print(f"  note: {note}")
    return report.ok


def verify(args) -> int:
    from audit.verify import verify_database, verify_file
    from db.engine import make_session_factory, transaction

    if args.no_database and not args.jsonl:
        print("verify: --no-database needs --jsonl PATH", file=sys.stderr)
        return 2
    if args.jsonl and not args.jsonl.exists():
        print(f"verify: {args.jsonl}: no such file", file=sys.stderr)
        return 2
    if args.no_database:
        return 0 if _print(f"file {args.jsonl}", verify_file(args.jsonl)) else 1
    engine = _engine(args.database_url)
    try:
        if not inspect(engine).has_table("audit_records"):
            print("verify: this database has no audit trail yet (run `python init_db.py`)",
                  file=sys.stderr)
            return 1
        with transaction(make_session_factory(engine)) as session:
            ok = _print("database", verify_database(session))
            if args.jsonl:
                ok = _print(f"file {args.jsonl}", verify_file(args.jsonl, session)) and ok
    finally:
        engine.dispose()
    return 0 if ok else 1


def export(args) -> int:
    from audit.export import JsonlExporter
    from config import get_settings
    from db.engine import make_session_factory

    path = args.jsonl or get_settings().audit_log_path
    engine = _engine(args.database_url)
    try:
        written = JsonlExporter(make_session_factory(engine), path).flush()
    finally:
        engine.dispose()
    print(f"exported {written} record(s) to {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check the hash chain; exit 1 when it is broken")
    check.add_argument("--database-url", help="default: DATABASE_URL")
    check.add_argument("--jsonl", type=Path, help="also check this JSONL copy of the trail")
    check.add_argument("--no-database", action="store_true",
                       help="check only the --jsonl file's own chain")
    out = sub.add_parser("export", help="write the records the JSONL file is missing")
    out.add_argument("--database-url", help="default: DATABASE_URL")
    out.add_argument("--jsonl", type=Path, help="default: AUDIT_LOG_PATH")
    args = parser.parse_args(argv)
    return verify(args) if args.command == "verify" else export(args)


if __name__ == "__main__":
    sys.exit(main())
