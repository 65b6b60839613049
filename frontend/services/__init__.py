"""Data access for the portal: small functions over db/models.py, one area per module.

Each function takes the session factory and opens its own unit of work with
db.engine.transaction, so views never hold a session and objects come back fully
loaded (the factory keeps attributes after commit).
"""
