"""Database-facing domain: reads and writes through SQLModel, never imports Streamlit."""
