"""The relational data layer shared by the actions, the knowledge base and the staff side.

SQLAlchemy 2 models with Alembic migrations; SQLite by default, PostgreSQL by setting
GOV_DATABASE_URL.
"""
