"""Audit trail (append-only JSONL) and PII redaction for everything we write down."""
