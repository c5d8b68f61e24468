"""The `ovni` command line: the parser here, each command's handler in a module of this package.

Each subcommand imports only what it needs (the API never loads dagster).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date


class CliError(Exception):
    """A user-facing failure: printed as one line on stderr, exit code 1."""


def _cmd_generate(args: argparse.Namespace) -> int:
    from ovni_assets.cli.generate import generate

    return generate(args)


def _cmd_run(args: argparse.Namespace) -> int:
    from ovni_assets.cli.run import run_weekly_cycle
    from ovni_assets.home import prepare_home
    from ovni_assets.settings import get_settings

    return run_weekly_cycle(prepare_home(get_settings()), force_retrain=args.retrain)


def _cmd_backtest(args: argparse.Namespace) -> int:
    from ovni_assets.cli.backtest import run_backtest_cli

    return run_backtest_cli(weeks=args.weeks, until=args.until, through_weekday=args.through_weekday)


def _cmd_retract(args: argparse.Namespace) -> int:
    from ovni_assets.cli.retract import retract_cli

    return retract_cli(args.batch_id)


def _cmd_promote(args: argparse.Namespace) -> int:
    from ovni_assets.cli.promote import promote_cli

    return promote_cli(args.version)


def _cmd_serve(args: argparse.Namespace) -> int:
    from ovni_serving.server import serve

    return serve(host=args.host, port=args.port)


def _cmd_ui(args: argparse.Namespace) -> int:
    from ovni_ui.app import launch

    return launch(host=args.host, port=args.port)


def _cmd_up(args: argparse.Namespace) -> int:
    from ovni_assets.cli.up import up

    return up()


def _cmd_sql(args: argparse.Namespace) -> int:
    from ovni_assets.cli.sql import run_sql_cli

    return run_sql_cli(args.query, output_format=args.format)


def _cmd_backup(args: argparse.Namespace) -> int:
    from ovni_assets.cli.backup import backup_cli

    return backup_cli(args.directory, args.keep)


def _cmd_restore(args: argparse.Namespace) -> int:
    from ovni_assets.cli.backup import restore_cli

    return restore_cli(args.directory, args.backup)


def _cmd_held(args: argparse.Namespace) -> int:
    from ovni_assets.cli.held import held_cli

    return held_cli(args.format)


def _cmd_release(args: argparse.Namespace) -> int:
    from ovni_assets.cli.held import release_cli

    return release_cli(args.name, args.reason)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ovni", description="OVNI: weekly next-purchase predictions (Dagster, MLflow, FastAPI, Gradio)."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    generate = add("generate", _cmd_generate, "Write calibrated synthetic source tables (parquet).")
    generate.add_argument("--out", required=True, help="Folder to write the three tables into.")
    generate.add_argument("--customers", type=_positive_int, default=1500)
    generate.add_argument("--weeks", type=_positive_int, default=40)
    generate.add_argument("--start", type=_iso_date, default=date(2024, 1, 1), help="First day (YYYY-MM-DD).")
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument(
        "--drift",
        action="append",
        default=[],
        metavar="KIND@WEEK",
        help="Inject a shift from week WEEK (0-based): product_mix, volume or new_customers. Repeatable.",
    )

    run = add("run", _cmd_run, "Process what is new in the landing zone and publish next week's predictions.")
    run.add_argument("--retrain", action="store_true", help="Train a challenger even if nothing asks for it.")

    backtest = add(
        "backtest", _cmd_backtest, "Replay the weekly loop over the landed data; print F1 per week."
    )
    backtest.add_argument("--weeks", type=_positive_int, default=8)
    backtest.add_argument(
        "--until",
        type=_iso_date,
        default=None,
        metavar="WEEK",
        help="Newest target week to replay (any day of it, YYYY-MM-DD; default: the newest landed week).",
    )
    backtest.add_argument(
        "--through-weekday",
        type=int,
        choices=range(6),
        default=None,
        metavar="D",
        help="Also score every target week as if the export had ended on weekday D of it (0 = Monday).",
    )

    retract = add(
        "retract",
        _cmd_retract,
        "Take an ingested batch back out (its file goes to quarantine/retracted/), rebuild and republish.",
    )
    retract.add_argument("batch_id", help="Batch id as in the ingested_files table, e.g. transactions-1a2b….")

    held = add("held", _cmd_held, "List the landed files held in quarantine, with why each was held.")
    held.add_argument("--format", choices=["table", "json"], default="table")

    release = add(
        "release",
        _cmd_release,
        "Take a held file on purpose: record why and move it back to landing/ for the next ingest.",
    )
    release.add_argument("name", help="Its name in quarantine/ (as `ovni held` lists it) or its landed name.")
    release.add_argument("--reason", required=True, help="Why the data is right after all (kept on record).")

    promote = add(
        "promote", _cmd_promote, "Move the champion alias to a model version (rollback or forward)."
    )
    promote.add_argument("version", help="Registered version number of ovni-purchase.")

    serve = add("serve", _cmd_serve, "Run the prediction API (uvicorn).")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    ui = add("ui", _cmd_ui, "Run the Gradio app against OVNI_API_URL.")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=7860)

    add("up", _cmd_up, "Start Dagster, MLflow UI, API and UI locally; Ctrl-C stops them all.")

    sql = add("sql", _cmd_sql, "Run read-only SQL on the serving snapshot and print a table.")
    sql.add_argument("query")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")

    backup = add(
        "backup",
        _cmd_backup,
        "Write a complete, verified backup of OVNI_HOME into DIR (while the daemon and the API run).",
    )
    backup.add_argument("directory", metavar="DIR", help="Backup directory, outside OVNI_HOME.")
    backup.add_argument(
        "--keep",
        type=_positive_int,
        default=None,
        help="Complete backups to keep (default OVNI_BACKUP_KEEP).",
    )

    restore = add(
        "restore",
        _cmd_restore,
        "Verify a backup and restore it into a missing or empty OVNI_HOME (the newest complete one in DIR).",
    )
    restore.add_argument("directory", metavar="DIR", help="Backup directory, or one backup's folder.")
    restore.add_argument("--backup", default=None, metavar="NAME", help="A given backup of DIR by name.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as error:
        print(f"ovni {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
