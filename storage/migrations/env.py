"""Alembic environment: the URL comes from GOV_DATABASE_URL (or the caller), never a file."""

from __future__ import annotations

from alembic import context

from storage.database import database_url, make_engine
from storage.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or database_url()

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with make_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
