"""`ovni serve` as a real process under concurrent load while the champion and the snapshot change."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from builders import TARGET_WEEK, load_version, make_world, publish_snapshot, register_version
from conftest import serve_world
from serve_process import Load, ovni_serve

from tests.cli import run_ovni

RELOAD_SECONDS = 1.0


def promote(settings, version: str) -> None:
    """`ovni promote VERSION`, as an operator would: from a shell without this process's environment."""
    run_ovni(settings.home, "promote", version, env={"PATH": "/usr/bin:/bin"}, inherit=False)


@pytest.mark.slow
def test_no_request_fails_while_a_new_champion_and_a_new_snapshot_are_picked_up(new_home):
    home = serve_world(new_home(), make_world(seed=2), threshold=0.5)
    row = home.world.features.iloc[0]
    pair = {"customer_id": int(row["customer_id"]), "product_id": int(row["product_id"])}
    requests = [
        lambda client: client.post("/predict", json={"pairs": [pair]}),
        lambda client: client.get(f"/customers/{pair['customer_id']}/recommendations", params={"k": 5}),
    ]
    next_week = TARGET_WEEK + timedelta(days=7)
    with ovni_serve(home.settings.home, RELOAD_SECONDS) as url, Load(url, requests, threads=4) as load:
        load.first_seen(lambda o: o.model_version == home.version, timeout=60)
        new_version = register_version(home.settings, home.world, seed=9, threshold=0.3, make_champion=False)
        promote(home.settings, new_version)
        load.first_seen(lambda o: o.model_version == new_version, timeout=120)

        publish_snapshot(
            home.settings,
            home.world,
            load_version(home.settings, new_version),
            new_version,
            target_week=next_week,
        )
        load.first_seen(lambda o: o.week_start == str(next_week), timeout=120)
        time.sleep(1.0)
    assert load.failures() == [], load.failures()[:5]
    assert len(load.observations) > 100
    for thread in range(load.threads):
        versions = [o.model_version for o in load.observations if o.thread == thread]
        switch = versions.index(new_version)
        assert set(versions[:switch]) == {home.version} and set(versions[switch:]) == {new_version}, (
            "each client sees the old version, then only the new one"
        )
