"""Create .env with random secrets on first run, so nothing ships with a default key."""

import secrets
from pathlib import Path

ENV = Path(__file__).resolve().parent.parent / ".env"


def main() -> None:
    existing = ENV.read_text() if ENV.exists() else ""
    names = {line.split("=", 1)[0].strip() for line in existing.splitlines() if "=" in line}
    additions = [f"{name}={secrets.token_urlsafe(32)}"
                 for name in ("SUPPORT_API_KEY", "SECRET_KEY") if name not in names]
    if additions:
        with ENV.open("a") as fh:
            fh.write(("\n" if existing and not existing.endswith("\n") else "") +
                     "\n".join(additions) + "\n")
        ENV.chmod(0o600)
        print(f"Wrote {', '.join(a.split('=')[0] for a in additions)} to {ENV}")


if __name__ == "__main__":
    main()
