"""The `ovni` command as a user runs it: a real process, exit codes and the lines it prints."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from tests.cli import run_ovni


def test_help_lists_every_command(tmp_path):
    result = run_ovni(tmp_path, "--help")
    for command in (
        "generate",
        "run",
        "backtest",
        "held",
        "release",
        "retract",
        "promote",
        "serve",
        "ui",
        "up",
        "sql",
    ):
        assert command in result.stdout


def test_bad_arguments_exit_2_with_a_usage_line(tmp_path):
    result = run_ovni(tmp_path, "generate", "--out", str(tmp_path), "--customers", "zero", expect=2)
    assert "expected a whole number, got 'zero'" in result.stderr


def test_rejected_file_exits_1_with_one_line_naming_file_and_reason(tmp_path):
    home = tmp_path / "home"
    landing = home / "landing"
    landing.mkdir(parents=True)
    pd.DataFrame(
        {
            "customer_id": [1],
            "product_id": [2],
            "order_id": [3],
            "purchase_date": ["not a date"],
            "items": [1],
        }
    ).to_csv(landing / "transacciones_w1.csv", index=False)

    result = run_ovni(home, "run", expect=1)

    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "ovni run: rejected transacciones_w1.csv: column purchase_date has 1 value(s)"
    )
    assert "quarantine" in last_line
    assert (home / "quarantine" / "transacciones_w1.csv.reason.txt").exists()
    assert not (home / "landing" / "transacciones_w1.csv").exists()

    # The failed run is recorded in the OVNI Dagster instance, so the Dagster UI shows it.
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_runs()
        assert [run.status for run in runs] == [dg.DagsterRunStatus.FAILURE]
        assert runs[0].tags.get("ovni/trigger") == "cli"


def test_held_on_a_new_home_and_release_of_nothing_say_so(tmp_path):
    home = tmp_path / "home"
    assert run_ovni(home, "held").stdout.startswith("ovni held: nothing held in ")
    assert run_ovni(home, "held", "--format", "json").stdout.strip() == "[]"
    refused = run_ovni(home, "release", "transacciones_w1.csv", "--reason", "feriado", expect=1)
    assert refused.stderr.strip().startswith("ovni release: no held file named transacciones_w1.csv in ")
    assert "--reason" in run_ovni(home, "release", "transacciones_w1.csv", expect=2).stderr
