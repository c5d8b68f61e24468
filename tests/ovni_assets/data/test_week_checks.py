"""A landed file is judged against the data's own recent weeks: wrong exports that parse are held with the
check named, normal weeks pass, a week with too little history or a partial week is not judged, and every
check turns off with its setting."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ovni_assets.data.ingestion import RejectedFile, ingest_landing
from ovni_assets.data.week_checks import DEFAULT_THRESHOLDS, WeekCheckThresholds
from ovni_assets.defs.assets.ingest_assets import week_check_thresholds
from ovni_assets.settings import settings_from

from .test_ingestion import warehouse_fingerprint

MONDAY = date(2024, 1, 1)
CUSTOMERS = 20
HISTORY_WEEKS = 9


def week_lines(n: int) -> pd.DataFrame:
    """Week `n` of a small regular business: customer c buys two products every week on weekday c % 6
    (Monday .. Saturday) in units of thirds, one order per customer and day; a few customers skip a week,
    customer 1 returns a third of a unit."""
    rows = []
    for c in range(1, CUSTOMERS + 1):
        if (c + n) % 7 == 0:
            continue
        day = pd.Timestamp(MONDAY + timedelta(weeks=n, days=c % 6))
        for k in range(2):
            rows.append((c, 10 + (c + k) % 5, 1000 * n + c, day, 1 + ((c + n + k) % 3) / 3))
    rows.append((1, 10, 1000 * n + 1, pd.Timestamp(MONDAY + timedelta(weeks=n, days=1)), -1 / 3))
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "order_id", "purchase_date", "items"])


def customers_file(first_id: int = 1) -> pd.DataFrame:
    ids = range(first_id, first_id + CUSTOMERS)
    return pd.DataFrame(
        {
            "customer_id": list(ids),
            "region_id": 80,
            "zone_id": 5148,
            "customer_type": [("ABARROTES", "MAYORISTA", "RESTAURANT")[i % 3] for i in range(CUSTOMERS)],
            "Y": [-33.0 - i / 100 for i in range(CUSTOMERS)],
            "X": [-70.0 - i / 100 for i in range(CUSTOMERS)],
            "num_deliver_per_week": [1 + i % 3 for i in range(CUSTOMERS)],
            "num_visit_per_week": 1,
        }
    )


@pytest.fixture
def home(tmp_path: Path):
    """A warehouse holding `HISTORY_WEEKS` complete weeks and the customers (a first load: not judged)."""
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    landing.mkdir()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    pd.concat([week_lines(n) for n in range(HISTORY_WEEKS)]).to_parquet(
        landing / "transacciones_history.parquet"
    )
    customers_file().to_parquet(landing / "clientes.parquet")
    assert ingest_landing(con, landing, quarantine).week_checks == {}
    yield con, landing, quarantine
    con.close()


def next_week() -> pd.DataFrame:
    return week_lines(HISTORY_WEEKS)


def reexported_week() -> pd.DataFrame:
    lines = week_lines(HISTORY_WEEKS - 1)
    return lines.assign(order_id=lines["order_id"] + 500_000)


def one_customers_lines_repeated() -> pd.DataFrame:
    lines = next_week()
    mine = lines[lines["customer_id"] == 11]  # buys on Saturdays: the week reaches its last working day
    return pd.concat([mine] * (len(lines) // len(mine)), ignore_index=True)


def units_read_with_a_thousands_mark() -> pd.DataFrame:
    lines = next_week()
    return lines.assign(items=lines["items"] / 1000)  # `1.200` boxes read as 1.2


def dates_shifted_one_day() -> pd.DataFrame:
    lines = next_week()
    return lines.assign(purchase_date=lines["purchase_date"] + pd.Timedelta(days=1))


def returns_only() -> pd.DataFrame:
    lines = next_week()
    return lines.assign(items=-lines["items"].abs())


WRONG_WEEKS = {
    "re-exported week": (reexported_week, "reexported_lines"),
    "one customer's lines repeated": (one_customers_lines_repeated, "top_customer_share"),
    "units scaled by 1/1000": (units_read_with_a_thousands_mark, "units_per_line"),
    "dates shifted one day": (dates_shifted_one_day, "weekday_spread"),
    "returns only": (returns_only, "units_per_line"),
}


def land(landing: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_parquet(landing / name, index=False)


@pytest.mark.parametrize("case", WRONG_WEEKS, ids=list(WRONG_WEEKS))
def test_a_wrong_export_is_held_with_its_check_named_and_nothing_ingested(home, case):
    con, landing, quarantine = home
    make, check = WRONG_WEEKS[case]
    before = warehouse_fingerprint(con)
    land(landing, "transacciones_w09.parquet", make())

    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)

    reason = raised.value.reason
    assert reason.startswith(f"{check}: ")
    assert "expected" in reason and "e.g. customer " in reason  # the value, its range, example rows
    assert warehouse_fingerprint(con) == before
    assert f"reason: {check}: " in (quarantine / "transacciones_w09.parquet.reason.txt").read_text()


def test_the_reason_gives_the_measured_value_against_the_expected_range(home):
    con, landing, quarantine = home
    land(landing, "transacciones_w09.parquet", units_read_with_a_thousands_mark())
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert raised.value.reason.startswith(
        "units_per_line: week 2024-03-04 has median units per line 0.001, expected 0.444 .. 4 (median 1.333 "
        "over the 9 complete weeks before it, OVNI_UNITS_PER_LINE_MAX_FACTOR=3)"
    )


def test_normal_new_weeks_pass_and_say_what_was_measured(home):
    con, landing, quarantine = home
    land(landing, "transacciones_w09.parquet", next_week())
    land(landing, "transacciones_w10.parquet", week_lines(HISTORY_WEEKS + 1))

    report = ingest_landing(con, landing, quarantine)

    assert len(report.ingested) == 2
    measured = report.week_checks["transacciones_w10.parquet"]
    assert measured["file"] == {"reexported_share": 0.0}
    assert set(measured["2024-03-11"]) >= {"week_volume.customers", "weekday_spread.shift_ratio"}
    assert measured["2024-03-11"]["units_per_line.median_units_per_line"] == pytest.approx(1.0)


def test_a_partial_week_at_the_end_of_an_export_is_judged_once_complete(home):
    con, landing, quarantine = home
    lines = units_read_with_a_thousands_mark()
    through_tuesday = lines["purchase_date"] < pd.Timestamp(MONDAY + timedelta(weeks=HISTORY_WEEKS, days=2))
    land(landing, "transacciones_w09_a.parquet", lines[through_tuesday])
    report = ingest_landing(con, landing, quarantine)
    assert [f.name for f, _ in report.ingested] == ["transacciones_w09_a.parquet"]
    assert "2024-03-04" not in report.week_checks["transacciones_w09_a.parquet"]

    land(landing, "transacciones_w09_b.parquet", lines[~through_tuesday])
    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)
    assert raised.value.reason.startswith("units_per_line: week 2024-03-04 has median units per line 0.001")


def test_a_week_with_too_little_history_is_not_judged(tmp_path):
    landing, quarantine = tmp_path / "landing", tmp_path / "quarantine"
    landing.mkdir()
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    land(landing, "transacciones_history.parquet", pd.concat([week_lines(n) for n in range(HISTORY_WEEKS)]))
    ingest_landing(con, landing, quarantine)
    land(landing, "transacciones_w09.parquet", one_customers_lines_repeated())

    report = ingest_landing(
        con, landing, quarantine, week_checks=replace(DEFAULT_THRESHOLDS, min_history_weeks=10)
    )

    assert [f.name for f, _ in report.ingested] == ["transacciones_w09.parquet"]
    assert report.week_checks == {}
    con.close()


@pytest.mark.parametrize(
    ("case", "disabled", "held_by"),
    [
        ("re-exported week", {"reexported_lines_max_share"}, None),
        ("one customer's lines repeated", {"top_customer_share_max_factor"}, "week_volume"),
        ("one customer's lines repeated", {"top_customer_share_max_factor", "week_volume_max_factor"}, None),
        ("units scaled by 1/1000", {"units_per_line_max_factor"}, "units_per_line"),  # every unit fractional
        (
            "units scaled by 1/1000",
            {"units_per_line_max_factor", "units_per_line_max_share_change"},
            "week_volume",
        ),
        ("dates shifted one day", {"weekday_spread_max_shift_ratio"}, None),
    ],
)
def test_each_check_turns_off_with_its_setting(home, case, disabled, held_by):
    con, landing, quarantine = home
    land(landing, "transacciones_w09.parquet", WRONG_WEEKS[case][0]())
    thresholds = week_check_thresholds(settings_from(**dict.fromkeys(disabled, 0)))

    if held_by is None:
        assert len(ingest_landing(con, landing, quarantine, week_checks=thresholds).ingested) == 1
    else:
        with pytest.raises(RejectedFile) as raised:
            ingest_landing(con, landing, quarantine, week_checks=thresholds)
        assert raised.value.reason.startswith(f"{held_by}: ")


def test_a_customers_file_renumbering_every_id_is_held(home):
    con, landing, quarantine = home
    before = warehouse_fingerprint(con)
    land(landing, "clientes_renumbered.parquet", customers_file(first_id=5001))

    with pytest.raises(RejectedFile) as raised:
        ingest_landing(con, landing, quarantine)

    assert raised.value.reason.startswith(
        "changed_ids: 100.0% of the 20 known customer_id values (20) are missing from the file or have every "
        "attribute changed, at most 50% expected (OVNI_CHANGED_IDS_MAX_SHARE); e.g. customer_id 1, 2, 3"
    )
    assert warehouse_fingerprint(con) == before


def test_a_customers_export_with_a_few_changes_and_an_update_of_a_few_ids_pass(home):
    con, landing, quarantine = home
    edited = customers_file()
    edited.loc[:2, "num_deliver_per_week"] = 6
    land(landing, "clientes_export.parquet", pd.concat([edited[1:], customers_file(first_id=100).head(3)]))
    land(landing, "clientes_update.parquet", customers_file(first_id=200).head(2))

    report = ingest_landing(con, landing, quarantine)

    assert len(report.ingested) == 2
    assert report.week_checks["clientes_export.parquet"] == {"customers": {"changed_ids_share": 0.05}}
    assert "clientes_update.parquet" not in report.week_checks


def test_a_renumbering_passes_with_the_check_off(home):
    con, landing, quarantine = home
    land(landing, "clientes_renumbered.parquet", customers_file(first_id=5001))
    thresholds = week_check_thresholds(settings_from(changed_ids_max_share=0))
    assert len(ingest_landing(con, landing, quarantine, week_checks=thresholds).ingested) == 1


def test_the_settings_defaults_are_the_checks_defaults():
    assert week_check_thresholds(settings_from()) == WeekCheckThresholds()
