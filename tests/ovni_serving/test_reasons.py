"""The reasons a recommendation gives, in plain Spanish and English."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("features", "es", "en"),
    [
        (
            {"bought_w4": 4, "weeks_since_last": 0, "mean_gap_weeks": 1.0, "gap_ratio": 0.0},
            [
                "compró todas las últimas 4 semanas",
                "última compra la semana pasada",
                "suele comprarlo cada semana",
            ],
            ["bought in each of the last 4 weeks", "last purchase last week", "usually buys it every week"],
        ),
        (
            {"bought_w4": 0, "bought_w8": 2, "weeks_since_last": 4, "mean_gap_weeks": 3.5, "gap_ratio": 1.1},
            [
                "compró en 2 de las últimas 8 semanas",
                "última compra hace 5 semanas",
                "suele comprarlo cada 3,5 semanas; ya le toca",
            ],
            [
                "bought in 2 of the last 8 weeks",
                "last purchase 5 weeks ago",
                "usually buys it every 3.5 weeks; it is due",
            ],
        ),
        (
            {"bought_w4": 1, "weeks_since_last": 1, "mean_gap_weeks": 2.0, "gap_ratio": 1.0},
            [
                "compró en 1 de las últimas 4 semanas",
                "última compra hace 2 semanas",
                "suele comprarlo cada 2 semanas; ya le toca",
            ],
            [
                "bought in 1 of the last 4 weeks",
                "last purchase 2 weeks ago",
                "usually buys it every 2 weeks; it is due",
            ],
        ),
        (
            {"bought_w4": 3, "weeks_since_last": 0, "mean_gap_weeks": 1.04, "gap_ratio": 0.9},
            [
                "compró en 3 de las últimas 4 semanas",
                "última compra la semana pasada",
                "suele comprarlo cada semana",
            ],
            ["bought in 3 of the last 4 weeks", "last purchase last week", "usually buys it every week"],
        ),
        (
            {"bought_w4": 2, "weeks_since_last": 1, "mean_gap_weeks": 1.12, "gap_ratio": 0.5},
            [
                "compró en 2 de las últimas 4 semanas",
                "última compra hace 2 semanas",
                "suele comprarlo cada 1,1 semanas",
            ],
            [
                "bought in 2 of the last 4 weeks",
                "last purchase 2 weeks ago",
                "usually buys it every 1.1 weeks",
            ],
        ),
        (
            {
                "is_discovery": "yes",
                "type_share_w8": 0.25,
                "customer_type": "MAYORISTA",
                "weeks_since_last": None,
            },
            ["nunca lo ha comprado; lo compra el 25% de los clientes MAYORISTA activos"],
            ["never bought it; 25% of active MAYORISTA customers buy it"],
        ),
    ],
)
def test_reasons_in_plain_words(features, es, en):
    from ovni_serving.reasons import reasons

    assert reasons(features, 0.62, 0.3, "es") == [
        *es,
        "probabilidad 62,0 %, sobre el umbral del modelo (30,0 %)",
    ]
    assert reasons(features, 0.12, 0.3, "en") == [
        *en,
        "probability 12.0%, below the model's threshold (30.0%)",
    ]
