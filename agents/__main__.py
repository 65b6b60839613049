"""Try the agent without servers:  python -m agents "I want a refund for order 1001" --user 1"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from agents.errors import NotFound
from agents.factory import build_services
from audit.log_setup import configure_logging
from config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents", description=__doc__)
    parser.add_argument("text", help="what the customer writes")
    parser.add_argument("--user", type=int, required=True, help="the customer's user id")
    parser.add_argument("--conversation", help="continue this conversation id")
    args = parser.parse_args(argv)

    configure_logging(logging.WARNING)
    services = build_services(get_settings())
    try:
        result = services.agent.resolve(args.user, args.text, args.conversation)
    except NotFound as exc:
        print(json.dumps({"error": {"code": "not_found", "message": exc.message}}), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(json.dumps({"error": {"code": "invalid_input", "message": str(exc)}}),
              file=sys.stderr)
        return 2
    finally:
        services.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
