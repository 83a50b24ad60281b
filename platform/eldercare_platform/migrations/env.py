"""Alembic environment: runs migrations online against the URL the caller configured."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool
from sqlmodel import SQLModel

import eldercare_platform.models  # noqa: F401 - registers every table on SQLModel.metadata
from eldercare_platform.migrations.env_filters import include_object

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations in one transaction per migration on a fresh connection."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL or call eldercare_platform.migrate")
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, compare_type=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, compare_type=True, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run them against a database")
run_migrations_online()
