"""Alembic migrations of the platform database (relational model and time-series tables)."""
