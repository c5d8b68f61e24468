"""The ingest and clean assets and their checks, materialized with real resources on a tmp OVNI_HOME."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from ovni_assets.defs.assets import clean_assets, ingest_assets
from ovni_assets.defs.checks import DATA_CHECKS
from ovni_assets.defs.resources import resources_for
from ovni_assets.warehouse import connect


def land_small_drop(landing, unknown_customer: bool = False) -> None:
    pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3 if unknown_customer else 2],
            "product_id": [10, 10, 11, 10],
            "order_id": [1, 1, 2, 3],
            "purchase_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-09", "2024-01-16"]),
            "items": [1.0, 1.0, 2.0, 1.0],
        }
    ).to_parquet(landing / "transacciones.parquet")
    pd.DataFrame(
        {
            "customer_id": [1, 2],
            "region_id": [80, 80],
            "zone_id": [1, 1],
            "customer_type": ["ABARROTES", "MAYORISTA"],
            "Y": [-46.0, -46.0],
            "X": [-108.0, -108.0],
            "num_deliver_per_week": [3, 2],
            "num_visit_per_week": [1, 1],
        }
    ).to_csv(landing / "clientes.csv", index=False)
    pd.DataFrame(
        {
            "product_id": [10, 11],
            "brand": ["Brand 1", "Brand 2"],
            "category": ["BEBIDAS CARBONATADAS"] * 2,
            "sub_category": ["GASEOSAS"] * 2,
            "segment": ["LOW", "HIGH"],
            "package": ["LATA", "BOTELLA"],
            "size": [0.35, 1.5],
        }
    ).to_parquet(landing / "productos.parquet")


def materialize_data(settings, instance):
    return dg.materialize(
        [
            ingest_assets.raw_tables,
            clean_assets.customers,
            clean_assets.products,
            clean_assets.transactions,
            *DATA_CHECKS,
        ],
        resources=resources_for(settings),
        instance=instance,
        raise_on_error=False,
    )


def check_results(result) -> dict[str, dg.AssetCheckEvaluation]:
    """{"asset:check": evaluation} of every check evaluated in the run."""
    events = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    evaluations = [e.asset_check_evaluation_data for e in events]
    return {f"{c.asset_key.to_user_string()}:{c.check_name}": c for c in evaluations}


def test_raw_and_clean_assets_materialize_with_metadata_and_passing_checks(ovni_home):
    land_small_drop(ovni_home.landing_dir)
    with dg.instance_for_test() as instance:
        result = materialize_data(ovni_home, instance)
        assert result.success

        raw = result.asset_materializations_for_node("raw_tables")
        by_key = {m.asset_key.to_user_string(): m.metadata for m in raw}
        assert by_key["raw_transactions"]["dagster/row_count"].value == 4
        assert by_key["raw_transactions"]["rows_added"].value == 4
        assert "purchase_date" in [
            c.name for c in by_key["raw_transactions"]["dagster/column_schema"].schema.columns
        ]
        transactions = result.asset_materializations_for_node("transactions")[0].metadata
        assert transactions["duplicate_rows_dropped"].value == 1
        assert transactions["dagster/row_count"].value == 3

        checks = check_results(result)
        assert len(checks) == len(DATA_CHECKS)
        assert all(c.passed for c in checks.values()), {k: c.passed for k, c in checks.items()}


def test_unknown_customer_fails_the_integrity_check_as_a_warning(ovni_home):
    land_small_drop(ovni_home.landing_dir, unknown_customer=True)
    with dg.instance_for_test() as instance:
        result = materialize_data(ovni_home, instance)
    assert result.success  # a warning does not stop the pipeline
    integrity = check_results(result)["transactions:ids_reference_master_data"]
    assert not integrity.passed
    assert integrity.severity == dg.AssetCheckSeverity.WARN
    assert integrity.metadata["customers_missing_from_master_data"].value == 1
    assert integrity.metadata["orphan_transactions"].value == 0


def test_rejected_file_fails_the_run_with_one_clear_line_and_changes_nothing(ovni_home):
    land_small_drop(ovni_home.landing_dir)
    with dg.instance_for_test() as instance:
        assert materialize_data(ovni_home, instance).success
        (ovni_home.landing_dir / "transacciones_w2.csv").write_text("customer_id,product_id\n1,2\n")
        with connect(ovni_home.warehouse_path, ovni_home) as con:
            before = con.execute("SELECT count(*) FROM raw_transactions").fetchone()[0]

        result = materialize_data(ovni_home, instance)

        assert not result.success
        failure = next(e for e in result.all_events if e.is_step_failure)
        message = failure.step_failure_data.error.message
        assert (
            "rejected transacciones_w2.csv: missing required column(s) order_id, purchase_date, items"
            in message
        )
        with connect(ovni_home.warehouse_path, ovni_home) as con:
            assert con.execute("SELECT count(*) FROM raw_transactions").fetchone()[0] == before
        assert (ovni_home.quarantine_dir / "transacciones_w2.csv.reason.txt").exists()


@pytest.mark.parametrize("asset", ["raw_transactions", "customers", "products", "transactions"])
def test_every_data_asset_has_a_description_and_group(asset):
    from ovni_assets.definitions import defs

    spec = defs.resolve_assets_def(asset).specs_by_key[dg.AssetKey(asset)]
    assert spec.description
    assert spec.group_name in {"ingest", "clean"}


def test_ingest_shows_what_the_week_checks_measured_and_takes_their_thresholds_from_settings(
    ovni_home, monkeypatch
):
    from ovni_assets.settings import get_settings
    from tests.ovni_assets.data.test_week_checks import (
        HISTORY_WEEKS,
        next_week,
        week_lines,
    )

    def ingest(settings, instance):
        return dg.materialize(
            [ingest_assets.raw_tables],
            resources=resources_for(settings),
            instance=instance,
            raise_on_error=False,
        )

    landing = ovni_home.landing_dir
    pd.concat([week_lines(n) for n in range(HISTORY_WEEKS)]).to_parquet(
        landing / "transacciones_history.parquet"
    )
    with dg.instance_for_test() as instance:
        assert ingest(ovni_home, instance).success
        next_week().to_parquet(landing / "transacciones_w09.parquet")
        result = ingest(ovni_home, instance)
        assert result.success
        raw = {
            m.asset_key.to_user_string(): m.metadata
            for m in result.asset_materializations_for_node("raw_tables")
        }
        measured = raw["raw_transactions"]["week_checks"].value
        assert measured["file"] == {"reexported_share": 0.0}
        assert measured["2024-03-04"]["week_volume.customers"] == 1.0
        assert "week_checks" not in raw["raw_customers"]

        week_10 = week_lines(HISTORY_WEEKS + 1)
        week_10.assign(purchase_date=week_10["purchase_date"] + pd.Timedelta(days=1)).to_parquet(
            landing / "transacciones_w10.parquet"
        )
        assert not ingest(ovni_home, instance).success
        reason = (ovni_home.quarantine_dir / "transacciones_w10.parquet.reason.txt").read_text()
        assert "reason: weekday_spread: week 2024-03-11" in reason
        (ovni_home.quarantine_dir / "transacciones_w10.parquet").rename(landing / "transacciones_w10.parquet")
        monkeypatch.setenv("OVNI_WEEKDAY_SPREAD_MAX_SHIFT_RATIO", "0")
        assert ingest(get_settings(), instance).success
