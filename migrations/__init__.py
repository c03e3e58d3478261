"""Alembic migrations, shipped inside the wheel as tracker.migrations."""
