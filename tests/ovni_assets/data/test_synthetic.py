"""`ovni generate`: deterministic, in the source schema, calibrated to the real data, with visible drifts."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ovni_assets.cli import main
from ovni_assets.data.ingestion import ingest_landing
from ovni_assets.data.schema import SOURCE_TABLES
from ovni_assets.data.synthetic import writer
from ovni_assets.data.synthetic.config import (
    DRIFT_KINDS,
    NEW_CUSTOMERS_SHARE,
    VOLUME_UNITS_FACTOR,
    Drift,
    GeneratorConfig,
    parse_drift,
)
from ovni_assets.data.synthetic.stats import dataset_statistics
from ovni_assets.data.synthetic.writer import write_dataset

FILES = {"transactions": "transacciones", "customers": "clientes", "products": "productos"}

# How far each generated statistic may sit from the real one (absolute difference), for 1,500 customers
# over 40 weeks. The names are dataset_statistics' keys; `[*]` covers every customer type / delivery count.
TOLERANCES = {
    "weeks": 0,
    "customer_type_share[*]": 0.03,
    "deliveries_share[*]": 0.03,
    "never_buying_share": 0.03,
    "coordinates_missing": 0,
    "coordinates_swapped": 1,
    "catalogue_products": 10,
    "catalogue_brands": 5,
    "catalogue_sizes": 2,
    "sold_products": 5,
    "sold_share_premium": 0.05,
    "active_week_share": 0.05,
    "active_next_week_given_active": 0.08,
    "orders_per_active_week": 0.15,
    "lines_per_order": 0.5,
    "products_per_buying_customer": 3.0,
    "pairs_bought_in_one_week_share": 0.05,
    "positive_rate_ever_bought_pairs": 0.02,
    "positive_rate_grid": 0.005,
    "pair_bought_again_next_active_week": 0.08,
    "new_pair_share_last_8_weeks": 0.02,
    "return_line_share": 0.005,
    "returns_with_purchase_in_same_order_share": 0.02,
    "return_of_at_most_one_unit_share": 0.1,
    "duplicate_line_share": 0.0015,
    "lines_in_thirds_share": 0.01,
    "fractional_line_share": 0.05,
    "median_units_per_purchase_line": 0.34,
    "mean_units_per_purchase_line": 0.9,
    "weekly_lines_cv": 0.12,
    "sunday_line_share": 0.01,
    "rule_f1_bought_last_week": 0.05,
    "rule_f1_3_of_last_8_weeks": 0.04,
}


def _tolerance(name: str) -> float:
    return TOLERANCES.get(name, TOLERANCES.get(name.split("[")[0] + "[*]", math.nan))


@pytest.fixture(scope="module")
def calibrated_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("calibrated")
    write_dataset(GeneratorConfig(customers=1500, weeks=40, start=date(2024, 1, 1), seed=7), out)
    return out


# --- drifts: a small base dataset and one dataset per drift kind, all from the same seed --------------------
DRIFT_CONFIG = GeneratorConfig(customers=600, weeks=20, start=date(2024, 1, 1), seed=3)
DRIFT_WEEK = 12
DRIFT_CUT = DRIFT_CONFIG.start + timedelta(weeks=DRIFT_WEEK)


@pytest.fixture(scope="module")
def drift_dirs(tmp_path_factory) -> dict[str, Path]:
    dirs = {}
    for kind in ("none", *DRIFT_KINDS):
        out = tmp_path_factory.mktemp(f"drift_{kind}")
        drifts = () if kind == "none" else (Drift(kind, DRIFT_WEEK),)
        write_dataset(
            GeneratorConfig(
                DRIFT_CONFIG.customers, DRIFT_CONFIG.weeks, DRIFT_CONFIG.start, DRIFT_CONFIG.seed, drifts
            ),
            out,
        )
        dirs[kind] = out
    return dirs


def _query(sql: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql).fetchall()


def _lines(folder: Path) -> str:
    return f"read_parquet('{folder / 'transacciones.parquet'}')"


# --- determinism ------------------------------------------------------------------------------------------


def test_same_seed_writes_identical_files_and_another_seed_differs(tmp_path: Path):
    config = GeneratorConfig(customers=200, weeks=10, seed=5)
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert write_dataset(config, first) == write_dataset(config, second)
    write_dataset(GeneratorConfig(customers=200, weeks=10, seed=6), other)
    for name in FILES.values():
        assert (first / f"{name}.parquet").read_bytes() == (second / f"{name}.parquet").read_bytes(), name
        assert (first / f"{name}.parquet").read_bytes() != (other / f"{name}.parquet").read_bytes(), name


# --- schema and ingestion -----------------------------------------------------------------------------------


def test_files_have_exactly_the_source_columns(calibrated_dir: Path):
    for kind, name in FILES.items():
        columns = pq.read_schema(calibrated_dir / f"{name}.parquet").names
        assert columns == SOURCE_TABLES[kind].column_names


def test_arrow_types_match_the_real_export(calibrated_dir: Path, sodai_dir: Path):
    for name in FILES.values():
        real = pq.read_schema(sodai_dir / f"{name}.parquet").remove_metadata()
        real_types = {field.name: field.type for field in real if field.name != "__index_level_0__"}
        generated = pq.read_schema(calibrated_dir / f"{name}.parquet")
        assert {field.name: field.type for field in generated} == real_types


def test_generated_files_pass_ingestion_validation(calibrated_dir: Path, tmp_path: Path):
    landing = tmp_path / "landing"
    landing.mkdir()
    for name in FILES.values():
        (landing / f"{name}.parquet").write_bytes((calibrated_dir / f"{name}.parquet").read_bytes())
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        report = ingest_landing(con, landing, tmp_path / "quarantine")
        for kind, name in FILES.items():
            expected = pq.ParquetFile(calibrated_dir / f"{name}.parquet").metadata.num_rows
            assert report.rows_for(kind) == expected > 0
    assert not (tmp_path / "quarantine").exists()


def test_order_ids_are_unique_per_customer_and_day_across_chunks(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_CUSTOMERS", 70)  # several chunks, plus a new-customer wave
    write_dataset(
        GeneratorConfig(customers=300, weeks=6, seed=2, drifts=(Drift("new_customers", 3),)), tmp_path
    )
    orders, keys, max_keys_per_order, off_midnight = _query(
        f"""SELECT count(DISTINCT order_id), count(DISTINCT (customer_id, purchase_date)),
            (SELECT max(n) FROM (SELECT count(DISTINCT (customer_id, purchase_date)) AS n
                                 FROM {_lines(tmp_path)} GROUP BY order_id)),
            count(*) FILTER (WHERE purchase_date <> date_trunc('day', purchase_date))
        FROM {_lines(tmp_path)}"""
    )[0]
    assert orders == keys > 0
    assert max_keys_per_order == 1
    assert off_midnight == 0
    customer_ids = pq.read_table(tmp_path / "clientes.parquet").column("customer_id").to_pylist()
    assert len(set(customer_ids)) == len(customer_ids) == 360


def test_weekday_mix_follows_the_calendar_whatever_the_start_day(tmp_path: Path):
    wednesday = date(2024, 1, 3)
    write_dataset(GeneratorConfig(customers=300, weeks=6, start=wednesday, seed=4), tmp_path)
    first_day, sunday_share, busiest = _query(
        f"""SELECT min(purchase_date)::DATE, avg((dayofweek(purchase_date) = 0)::INT),
            mode(dayname(purchase_date)) FROM {_lines(tmp_path)}"""
    )[0]
    assert first_day >= wednesday
    assert sunday_share < 0.05  # as in the real data (2.6 %): Sunday is the quietest day
    assert busiest in ("Monday", "Thursday")


# --- calibration --------------------------------------------------------------------------------------------


def test_generated_statistics_match_the_real_data(calibrated_dir: Path, sodai_dir: Path):
    real = dataset_statistics(sodai_dir)
    generated = dataset_statistics(calibrated_dir)
    assert set(generated) <= set(real) | {k for k in generated if k.startswith("deliveries_share[")}
    drifted = []
    for name in sorted(set(real) | set(generated)):
        if name == "customers":
            continue
        tolerance = _tolerance(name)
        assert not math.isnan(tolerance), f"no tolerance stated for statistic {name}"
        real_value, generated_value = real.get(name, 0.0), generated.get(name, 0.0)
        if not abs(generated_value - real_value) <= tolerance:
            drifted.append(
                f"{name}: real {real_value:.4f}, generated {generated_value:.4f}, tolerance {tolerance}"
            )
    assert not drifted, "generated data drifted from the real data:\n" + "\n".join(drifted)


def test_calibration_check_catches_a_distorted_dataset(calibrated_dir: Path, tmp_path: Path):
    """The statistics react to what they claim to measure: double every line and the duplicate share jumps."""
    doubled = tmp_path / "doubled"
    doubled.mkdir()
    for name in ("clientes", "productos"):
        (doubled / f"{name}.parquet").write_bytes((calibrated_dir / f"{name}.parquet").read_bytes())
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM {_lines(calibrated_dir)} UNION ALL SELECT * FROM {_lines(calibrated_dir)}) "
            f"TO '{doubled / 'transacciones.parquet'}' (FORMAT parquet)"
        )
    assert dataset_statistics(doubled)["duplicate_line_share"] > 0.49


# --- drifts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DRIFT_KINDS)
def test_drift_leaves_every_earlier_week_unchanged(drift_dirs: dict[str, Path], kind: str):
    base, drifted = drift_dirs["none"], drift_dirs[kind]
    before = f"purchase_date < DATE '{DRIFT_CUT}'"
    for left, right in ((base, drifted), (drifted, base)):
        extra = _query(
            f"SELECT count(*) FROM (SELECT * FROM {_lines(left)} WHERE {before} "
            f"EXCEPT ALL SELECT * FROM {_lines(right)} WHERE {before})"
        )[0][0]
        assert extra == 0
    after = f"purchase_date >= DATE '{DRIFT_CUT}'"
    changed = _query(
        f"SELECT count(*) FROM (SELECT * FROM {_lines(drifted)} WHERE {after} "
        f"EXCEPT ALL SELECT * FROM {_lines(base)} WHERE {after})"
    )[0][0]
    assert changed > 0


def _premium_share_after(folder: Path) -> float:
    return _query(
        f"""SELECT avg((p.segment = 'PREMIUM')::INT) FROM {_lines(folder)} t
        JOIN read_parquet('{folder / "productos.parquet"}') p USING (product_id)
        WHERE t.purchase_date >= DATE '{DRIFT_CUT}'"""
    )[0][0]


def test_product_mix_drift_moves_purchases_away_from_premium(drift_dirs: dict[str, Path]):
    base, drifted = _premium_share_after(drift_dirs["none"]), _premium_share_after(drift_dirs["product_mix"])
    assert drifted < base - 0.08


def _volume_after(folder: Path) -> tuple[float, float]:
    """(mean units per purchase line, purchase lines per week) from the drift week on."""
    return _query(
        f"""SELECT avg(items) FILTER (WHERE items > 0),
            count(*) FILTER (WHERE items > 0) / count(DISTINCT date_trunc('week', purchase_date))
        FROM {_lines(folder)} WHERE purchase_date >= DATE '{DRIFT_CUT}'"""
    )[0]


def test_volume_drift_raises_units_and_lowers_purchase_frequency(drift_dirs: dict[str, Path]):
    base_units, base_lines = _volume_after(drift_dirs["none"])
    units, lines = _volume_after(drift_dirs["volume"])
    assert units / base_units == pytest.approx(VOLUME_UNITS_FACTOR, rel=0.15)
    assert lines / base_lines < 0.75


def test_new_customers_drift_adds_a_wave_that_buys_only_from_its_week(drift_dirs: dict[str, Path]):
    base, drifted = drift_dirs["none"], drift_dirs["new_customers"]
    base_ids = set(pq.read_table(base / "clientes.parquet").column("customer_id").to_pylist())
    all_ids = pq.read_table(drifted / "clientes.parquet").column("customer_id").to_pylist()
    new_ids = set(all_ids) - base_ids
    assert base_ids <= set(all_ids)
    assert len(new_ids) == round(DRIFT_CONFIG.customers * NEW_CUSTOMERS_SHARE)
    first_purchase, buyers = _query(
        f"""SELECT min(purchase_date)::DATE, count(DISTINCT customer_id) FROM {_lines(drifted)}
        WHERE customer_id IN ({", ".join(map(str, new_ids))})"""
    )[0]
    assert first_purchase >= DRIFT_CUT
    assert buyers > 0.5 * len(new_ids)


# --- drift specs and the CLI -----------------------------------------------------------------------------


def test_parse_drift_reads_kind_and_week():
    assert parse_drift("volume@30") == Drift("volume", 30)
    assert parse_drift(" new_customers@0 ") == Drift("new_customers", 0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("volume", "expected KIND@WEEK"),
        ("weather@3", "KIND one of product_mix, volume, new_customers"),
        ("volume@soon", "WEEK must be a whole number"),
        ("volume@-1", "cannot be negative"),
    ],
)
def test_parse_drift_rejects_bad_specs(spec: str, message: str):
    with pytest.raises(ValueError, match=message):
        parse_drift(spec)


@pytest.mark.parametrize(
    ("drifts", "message"),
    [
        ((Drift("volume", 10),), "week must be between 0 and 9"),
        ((Drift("volume", 2), Drift("volume", 5)), "drift volume is given more than once"),
    ],
)
def test_drifts_that_do_not_fit_the_config_are_rejected(tmp_path: Path, drifts: tuple, message: str):
    with pytest.raises(ValueError, match=message):
        write_dataset(GeneratorConfig(customers=10, weeks=10, drifts=drifts), tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--drift", "weather@3"], "bad drift 'weather@3'"),
        (["--weeks", "10", "--drift", "volume@12"], "week must be between 0 and 9"),
    ],
)
def test_cli_bad_drift_exits_non_zero_with_one_line(tmp_path: Path, capsys, args: list[str], message: str):
    code = main(["generate", "--out", str(tmp_path / "out"), "--customers", "20", *args])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("ovni generate: ") and message in err
    assert not (tmp_path / "out").exists()


def test_cli_generates_the_three_files_and_prints_row_counts(tmp_path: Path, capsys):
    code = main(
        ["generate", "--out", str(tmp_path), "--customers", "50", "--weeks", "4", "--drift", "volume@2"]
    )
    out = capsys.readouterr().out
    assert code == 0
    for name in FILES.values():
        rows = pq.ParquetFile(tmp_path / f"{name}.parquet").metadata.num_rows
        assert f"{name}: {rows:,} rows" in out
