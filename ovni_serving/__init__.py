"""OVNI serving API (FastAPI). Never imports dagster."""
