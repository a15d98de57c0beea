"""Database-facing domain: reads and writes through SQLModel, never imports Streamlit."""

# Registers the unit-of-work hooks that keep the daily rollups in step with every outcome written.
from app.store import rollups as _rollups  # noqa: F401
