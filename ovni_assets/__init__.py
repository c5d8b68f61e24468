"""OVNI pipeline: Dagster assets, domain functions and the `ovni` CLI."""
