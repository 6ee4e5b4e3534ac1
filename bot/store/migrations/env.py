"""Alembic environment: runs the migrations over the app's async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import WRITE_BEGIN, create_engine
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    # A writing transaction (bot.store.db): processes starting together take turns, and the
    # later ones find the schema at its head and nothing to do.
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "",
                           foreign_keys=False).execution_options(**{WRITE_BEGIN: "IMMEDIATE"})
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())
