"""Alembic environment: runs on the connection siarkan hands it (see store/engine.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from siarkan.store.tables import metadata

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        # Command-line alembic (autogenerate during development): a sync engine on the URL.
        url = config.get_main_option("sqlalchemy.url") or "sqlite://"
        url = url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
        with create_engine(url).connect() as conn:
            _configure_and_run(conn)
            conn.commit()
        return
    _configure_and_run(connection)


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
