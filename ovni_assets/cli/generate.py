"""`ovni generate`: calibrated synthetic source tables (parquet) for demos, tests and benchmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from ovni_assets.cli import CliError
from ovni_assets.data.synthetic.config import GeneratorConfig, parse_drift
from ovni_assets.data.synthetic.writer import write_dataset


def generate(args: argparse.Namespace) -> int:
    """Write the synthetic tables and print their row counts. Exit code."""
    try:
        config = GeneratorConfig(
            customers=args.customers,
            weeks=args.weeks,
            start=args.start,
            seed=args.seed,
            drifts=tuple(parse_drift(spec) for spec in args.drift),
        )
        config.validate()
    except ValueError as error:  # a bad --drift spec or a drift week outside the generated weeks
        raise CliError(str(error)) from None
    summary = write_dataset(config, Path(args.out))
    for table, rows in summary.items():
        print(f"{table}: {rows:,} rows")
    return 0
