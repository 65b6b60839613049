"""Password hashing (scrypt through werkzeug); plain text is never stored."""

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(plain: str) -> str:
    return generate_password_hash(plain)


def verify_password(hashed: str, plain: str) -> bool:
    return bool(hashed) and check_password_hash(hashed, plain)
