"""Data layer: SQLAlchemy models and the engine/session factory."""
