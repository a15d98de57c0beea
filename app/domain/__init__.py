"""Pure domain logic: no database, no Streamlit."""
