"""The Streamlit dashboard: pages, the cached data layer and presentation helpers."""
