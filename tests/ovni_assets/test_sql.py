"""`ovni sql`: read-only SQL on the serving snapshot, through the real CLI entry point."""

from __future__ import annotations

import csv
import io
import json
import time

import duckdb
import pytest

from ovni_assets.cli import main


@pytest.fixture
def snapshot(ovni_home):
    """A small published snapshot: predictions of two batches and the latest_predictions view."""
    con = duckdb.connect(str(ovni_home.serving_path))
    con.execute(
        "CREATE TABLE predictions AS SELECT DATE '2024-10-07' AS week_start, c AS customer_id, 100 + c % 3 "
        "AS product_id, 1.0 / (c + 1) AS probability, c < 3 AS will_buy, 1 AS rank, '2' AS model_version, "
        "'b-' || (c % 2) AS batch_id, TIMESTAMP '2024-10-06 12:00:00' AS created_at FROM range(250) t(c)"
    )
    con.execute("CREATE VIEW latest_predictions AS SELECT * FROM predictions WHERE batch_id = 'b-1'")
    con.close()
    return ovni_home.serving_path


def run(capsys, *args):
    code = main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_table_output_is_readable(snapshot, capsys):
    code, out, err = run(
        capsys, "SELECT customer_id, product_id, round(probability, 3) AS p, will_buy FROM predictions "
        "WHERE customer_id < 3 ORDER BY customer_id"
    )  # fmt: skip
    assert code == 0 and err == ""
    lines = out.splitlines()
    header = next(line for line in lines if "customer_id" in line)
    assert all(name in header for name in ("customer_id", "product_id", "p", "will_buy"))
    assert any("0.333" in line and "True" in line for line in lines)
    assert "(3 rows)" in out


def test_long_results_are_cut_with_a_hint(snapshot, capsys):
    code, out, _ = run(capsys, "SELECT customer_id FROM predictions")
    assert code == 0
    assert "first 200 rows shown" in out
    assert "│         199 │" in out and "│         200 │" not in out


def test_csv_and_json_give_every_row(snapshot, capsys):
    code, out, _ = run(capsys, "SELECT * FROM latest_predictions ORDER BY customer_id", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 125 and rows[0]["customer_id"] == "1" and rows[0]["week_start"] == "2024-10-07"

    code, out, _ = run(
        capsys, "SELECT week_start, count(*) AS n FROM predictions GROUP BY 1", "--format", "json"
    )
    assert code == 0
    assert json.loads(out) == [{"week_start": "2024-10-07", "n": 250}]


def test_missing_snapshot_is_a_clear_one_line_error(ovni_home, capsys):
    code, out, err = run(capsys, "SELECT 1")
    assert code == 1 and out == ""
    assert err.startswith("ovni sql: no serving snapshot at") and "ovni run" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM predictions",
        "CREATE TABLE hacked AS SELECT 1",
        "DROP VIEW latest_predictions",
        "UPDATE predictions SET will_buy = true",
    ],
)
def test_writes_are_refused_and_change_nothing(snapshot, capsys, statement):
    code, out, err = run(capsys, statement)
    assert code == 1 and out == ""
    assert err.startswith("ovni sql: the serving snapshot is read-only")
    assert len(err.strip().splitlines()) == 1
    con = duckdb.connect(str(snapshot), read_only=True)
    assert con.execute("SELECT count(*) FROM latest_predictions").fetchone()[0] == 125


def test_queries_cannot_touch_other_files(snapshot, capsys, tmp_path):
    target = tmp_path / "leak.csv"
    code, _, err = run(capsys, f"COPY predictions TO '{target}'")
    assert code == 1 and not target.exists()
    assert "ovni sql:" in err
    code, _, err = run(capsys, "SELECT * FROM read_csv('/etc/hostname')")
    assert code == 1 and "disabled" in err


def test_sql_errors_are_one_line(snapshot, capsys):
    code, out, err = run(capsys, "SELEC * FROM predictions")
    assert code == 1 and out == ""
    assert err.startswith("ovni sql: Parser Error") and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "SELECT * FROM no_such_table")
    assert code == 1 and "no_such_table" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "   ")
    assert code == 1 and err.strip() == "ovni sql: empty query"


# 250⁵ rows, each computed (DuckDB counts a bare cross join from the cardinalities, without running it)
CROSS_JOIN = (
    "SELECT sum(a.customer_id + b.customer_id + c.customer_id + d.customer_id + e.customer_id) "
    "FROM predictions a, predictions b, predictions c, predictions d, predictions e"
)


@pytest.mark.parametrize("output_format", ["table", "csv"])
def test_a_runaway_statement_is_stopped_at_the_time_limit(snapshot, capsys, monkeypatch, output_format):
    """A cross join summed (the statement runs) or streamed as CSV (the output runs): both
    stop at the limit with one line that says what to do, and the snapshot opens again at once."""
    monkeypatch.setenv("OVNI_SQL_TIMEOUT_SECONDS", "1")
    streamed = "SELECT * FROM predictions a, predictions b, predictions c"
    started = time.monotonic()
    query = CROSS_JOIN if output_format == "table" else streamed
    code, _, err = run(capsys, query, "--format", output_format)
    assert code == 1 and time.monotonic() - started < 30
    assert err.strip().splitlines() == [
        "ovni sql: stopped after 1 s (OVNI_SQL_TIMEOUT_SECONDS): narrow the query (a WHERE on week_start or "
        "customer_id, a LIMIT) or raise the limit"
    ]
    code, out, _ = run(capsys, "SELECT count(*) AS n FROM predictions", "--format", "csv")
    assert (code, out) == (0, "n\n250\n")


def test_a_statement_beyond_the_memory_limit_stops_without_spilling(snapshot, capsys, monkeypatch):
    monkeypatch.setenv("OVNI_SQL_MEMORY_LIMIT", "20MB")
    code, out, err = run(
        capsys, "SELECT a.customer_id, list(b.customer_id || repeat('x', 200)) FROM predictions a, "
        "predictions b, range(20) c GROUP BY 1 ORDER BY 1 LIMIT 3"
    )  # fmt: skip
    assert code == 1 and out == ""
    assert err.startswith("ovni sql: the query needs more memory than OVNI_SQL_MEMORY_LIMIT=20MB")
    assert len(err.strip().splitlines()) == 1
    assert not any(snapshot.parent.glob("duckdb_tmp/*"))  # nothing spilled into the home


def test_sql_module_does_not_import_dagster():
    import subprocess
    import sys

    probe = "import sys, ovni_assets.cli.sql; print('dagster' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_csv_text_a_spreadsheet_would_run_is_neutralised(snapshot, capsys):
    code, out, _ = run(
        capsys,
        "SELECT '=HYPERLINK(\"http://x\")' AS brand, '+56 9 1234' AS phone, '@SUM(A1)' AS note, "
        "-1.5 AS delta, 'ok' AS plain, 'x' AS \"=name\"",
        "--format",
        "csv",
    )
    assert code == 0
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row == {
        "brand": '\'=HYPERLINK("http://x")',
        "phone": "'+56 9 1234",
        "note": "'@SUM(A1)",
        "delta": "-1.5",  # a number stays a number
        "plain": "ok",
        "'=name": "x",
    }
