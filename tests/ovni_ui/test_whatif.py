"""The what-if row: readable starting values, and every feature that follows from an edit moves with it."""

from __future__ import annotations

import pytest

from ovni_ui.whatif import NEVER_BOUGHT_WEEKS, readable_behaviours, simulated_row

# A weekly buyer's row as GET /customers/{id}/products/{id}/features returns it (bought in the feature week).
WEEKLY_BUYER = {
    "weeks_since_last": 0.0,
    "weeks_since_first": 19.0,
    "bought_w1": 1.0,
    "bought_w2": 2.0,
    "bought_w4": 4.0,
    "bought_w8": 8.0,
    "bought_w12": 12.0,
    "bought_w26": 18.0,
    "bought_total": 18.0,
    "units_w4": 11.333333333333329,
    "units_w12": 33.66666666666666,
    "orders_w4": 5.0,
    "mean_units": 2.87037037037037,
    "mean_gap_weeks": 1.1176470588235294,
    "gap_ratio": 0.0,
    "bought_lag1": 1.0,
    "bought_lag2": 1.0,
    "bought_lag3": 1.0,
    "days_since_last": 6.0,
    "mean_gap_days": 6.142857142857143,
    "day_gap_ratio": 0.9767441860465116,
    "cust_days_since_last": 3.0,
    "pair_share_w8": 1.0,
    "pair_share_total": 1.0,
    "cust_active_w1": 1.0,
    "cust_active_w4": 4.0,
    "cust_active_w12": 12.0,
    "cust_weeks_since_last": 0.0,
    "customer_type": "ABARROTES",
    "is_discovery": "no",
}
WINDOWS = {"bought_w2": 2, "bought_w4": 4, "bought_w8": 8, "bought_w12": 12, "bought_w26": 26}


def assert_consistent(row: dict) -> None:
    """What the pipeline's rows always satisfy, whatever the history."""
    flags = [row["bought_w1"], row["bought_lag1"], row["bought_lag2"], row["bought_lag3"]]
    assert row["bought_w2"] == sum(flags[:2]) and row["bought_w4"] == sum(flags)
    counts = [row[name] for name in WINDOWS]
    assert counts == sorted(counts) and row["bought_total"] >= row["bought_w26"]
    since = row["weeks_since_last"]
    if since is None:
        assert counts[-1] == 0 and row["days_since_last"] is None
    else:
        assert 7 * since <= row["days_since_last"] <= 7 * since + 6
        if since < 4:
            assert flags[since] == 1 and not any(flags[:since])
        for name, window in WINDOWS.items():
            assert (row[name] == 0) == (since >= window), name
            assert row[name] <= max(window - since, 0), name
        if row["mean_gap_weeks"]:
            assert row["gap_ratio"] == pytest.approx(since / row["mean_gap_weeks"])
            assert row["day_gap_ratio"] == pytest.approx(row["days_since_last"] / row["mean_gap_days"])
        else:  # a single purchase ever has no gap
            assert row["bought_total"] <= 1 or row["mean_gap_weeks"] == 0
            assert row["gap_ratio"] is None
    assert (row["units_w4"] == 0) == (row["bought_w4"] == 0)
    assert row["units_w12"] >= row["units_w4"]
    assert row["bought_w4"] <= row["cust_active_w4"] <= row["cust_active_w12"]
    assert row["cust_active_w1"] == int(row["cust_weeks_since_last"] == 0)
    if row["days_since_last"] is not None:  # the customer bought something when it bought the pair
        assert row["cust_days_since_last"] <= row["days_since_last"]
    assert 0 <= row["pair_share_w8"] <= 1 and 0 <= row["pair_share_total"] <= 1


def test_the_inputs_start_from_rounded_values_and_count_weeks_from_the_predicted_week():
    start = readable_behaviours(WEEKLY_BUYER)
    assert start == {
        "weeks_ago": 1,  # bought in the feature week: "last week" seen from the week predicted
        "bought_w4": 4,
        "bought_w12": 12,
        "units_w4": 11.3,
        "mean_gap_weeks": 1.1,
        "cust_active_w4": 4,
    }
    assert readable_behaviours({**WEEKLY_BUYER, "weeks_since_last": None})["weeks_ago"] == NEVER_BOUGHT_WEEKS


def test_the_unchanged_start_rebuilds_a_consistent_row_close_to_the_original():
    simulation = simulated_row(WEEKLY_BUYER, readable_behaviours(WEEKLY_BUYER))
    assert not simulation.adjusted
    assert_consistent(simulation.row)
    for name in (
        "weeks_since_last",
        "bought_w1",
        "bought_lag3",
        "bought_w8",
        "bought_w26",
        "days_since_last",
    ):
        assert simulation.row[name] == WEEKLY_BUYER[name], name


def test_ten_weeks_without_buying_moves_every_related_feature():
    edits = {**readable_behaviours(WEEKLY_BUYER), "weeks_ago": 10}
    simulation = simulated_row(WEEKLY_BUYER, edits)
    row = simulation.row
    assert row["weeks_since_last"] == 9 and row["days_since_last"] == 63 + 6
    assert [row["bought_w1"], row["bought_lag1"], row["bought_lag2"], row["bought_lag3"]] == [0, 0, 0, 0]
    assert row["bought_w4"] == row["bought_w8"] == row["units_w4"] == row["orders_w4"] == 0
    assert 1 <= row["bought_w12"] <= 3  # bought in week 10 back, at most weeks 10-12 in the window
    assert row["gap_ratio"] > 8 and row["day_gap_ratio"] > 10  # long overdue
    assert simulation.adjusted  # 4 purchases in the last 4 weeks cannot be kept
    assert simulation.behaviours["bought_w4"] == 0
    assert_consistent(row)


@pytest.mark.parametrize("weeks_ago", [1, 2, 3, 4, 5, 8, 9, 12, 13, 26, NEVER_BOUGHT_WEEKS])
@pytest.mark.parametrize("bought_w4", [0, 1, 4])
@pytest.mark.parametrize("cust_active_w4", [0, 2, 4])
def test_any_edit_gives_a_row_the_pipeline_could_have_made(
    weeks_ago: int, bought_w4: int, cust_active_w4: int
):
    edits = {
        "weeks_ago": weeks_ago,
        "bought_w4": bought_w4,
        "bought_w12": 6,
        "units_w4": 0.0,
        "mean_gap_weeks": 3.0,
        "cust_active_w4": cust_active_w4,
    }
    simulation = simulated_row(WEEKLY_BUYER, edits)
    assert_consistent(simulation.row)
    assert simulation.behaviours["weeks_ago"] == weeks_ago
    assert set(simulation.row) == set(WEEKLY_BUYER)  # the model's signature, nothing added or lost


def test_a_model_without_some_features_keeps_its_own_columns():
    row = {k: v for k, v in WEEKLY_BUYER.items() if k not in {"gap_ratio", "bought_lag2", "pair_share_w8"}}
    simulated = simulated_row(row, {**readable_behaviours(row), "weeks_ago": 3}).row
    assert set(simulated) == set(row)
    assert simulated["weeks_since_last"] == 2
