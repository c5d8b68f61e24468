"""Every text exists in both languages; the configuration reads the environment and rejects nonsense."""

from __future__ import annotations

import string
from datetime import date

import pytest

from ovni_ui import views
from ovni_ui.config import DEFAULT_API_URL, load_config
from ovni_ui.i18n import TEXTS, Texts


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_spanish_and_english_have_the_same_keys_and_placeholders():
    assert set(TEXTS["es"]) == set(TEXTS["en"])
    for key in TEXTS["es"]:
        assert _placeholders(TEXTS["es"][key]) == _placeholders(TEXTS["en"][key]), key


def test_first_tab_is_titled_recomendaciones_and_the_friendly_message_is_there():
    assert Texts("es")("tab_recommend") == "Recomendaciones"
    assert [Texts("es")(k) for k in ("tab_consult", "tab_explore", "tab_model", "tab_help")] == [
        "Consultar",
        "Explorar",
        "Modelo y monitoreo",
        "Ayuda",
    ]
    assert Texts("es")("api_down").startswith("El servicio de predicciones no responde")
    assert Texts("en")("api_down").startswith("The prediction service is not responding")


def test_numbers_follow_the_language():
    assert Texts("es").percent(0.4321) == "43,2 %"
    assert Texts("en").percent(0.4321) == "43.2%"
    assert Texts("es").number(1234.5, 1) == "1\u202f234,5"
    assert Texts("en").number(1234.5, 1) == "1,234.5"
    assert Texts("es").number(None) == "—"


def test_dates_are_written_out_as_in_chile_or_in_english():
    assert Texts("es").long_date("2024-10-07") == "7 de octubre de 2024"
    assert Texts("es").long_date(date(2024, 1, 1)) == "1 de enero de 2024"
    assert Texts("en").long_date("2024-10-07T00:00:00") == "October 7, 2024"
    assert (Texts("es").days(1), Texts("es").days(4)) == ("1 día", "4 días")
    assert (Texts("en").days(1), Texts("en").days(4)) == ("1 day", "4 days")


STALE = {"week_start": "2024-10-07", "fresh": False, "fresh_until": "2024-10-15", "stale_days": 1}
FRESH = {"week_start": "2024-10-07", "fresh": True, "fresh_until": "2024-10-15", "stale_days": 0}


def test_a_stale_week_gets_a_notice_and_a_fresh_one_none():
    notice = views.stale_notice(Texts("es"), STALE)
    assert 'class="ovni-notice"' in notice and 'data-stale-days="1"' in notice
    assert (
        "Las predicciones servidas son de la semana del 7 de octubre de 2024; llevan 1 día de atraso: "
        "revise la llegada de datos."
    ) in notice
    assert "they are 1 day late" in views.stale_notice(Texts("en"), STALE)
    assert views.stale_notice(Texts("es"), FRESH) == ""
    assert views.stale_notice(Texts("es"), {"week_start": None, "fresh": None}) == ""  # an older API


def test_the_model_tab_says_until_when_a_fresh_week_is_current():
    assert views.freshness(Texts("es"), FRESH) == views.banner(
        "info",
        "Predicciones al día: semana del 7 de octubre de 2024, vigentes hasta el 15 de octubre de 2024.",
    )
    assert "current until October 15, 2024" in views.freshness(Texts("en"), FRESH)
    stale = views.freshness(Texts("es"), STALE)
    assert stale.startswith(views.stale_notice(Texts("es"), STALE)[: -len("</div>")])
    assert stale.endswith(
        "Las de la semana del 14 de octubre de 2024 debían estar publicadas a más tardar el 15 de octubre de "
        "2024.</div>"
    )
    assert "Those for the week of October 14, 2024 were due by October 15, 2024." in views.freshness(
        Texts("en"), STALE
    )
    assert views.freshness(Texts("es"), {"fresh": None}) == ""


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        Texts("fr")


def test_config_defaults_to_spanish_and_the_local_api(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OVNI_API_URL", raising=False)
    monkeypatch.delenv("OVNI_UI_LANG", raising=False)
    config = load_config()
    assert (config.api_url, config.lang) == (DEFAULT_API_URL, "es")


def test_config_reads_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVNI_API_URL", "http://10.0.0.5:9000/")
    monkeypatch.setenv("OVNI_UI_LANG", "EN")
    config = load_config()
    assert (config.api_url, config.lang) == ("http://10.0.0.5:9000", "en")


def test_config_rejects_an_unknown_language(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OVNI_UI_LANG", "de")
    with pytest.raises(ValueError, match="OVNI_UI_LANG"):
        load_config()


def test_config_reads_the_header_timeout(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OVNI_HEADER_TIMEOUT_SECONDS", raising=False)
    assert load_config().header_timeout_seconds == 30.0
    monkeypatch.setenv("OVNI_HEADER_TIMEOUT_SECONDS", "2.5")
    assert load_config().header_timeout_seconds == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_config_rejects_a_header_timeout_that_is_not_a_positive_number(
    monkeypatch: pytest.MonkeyPatch, value: str
):
    monkeypatch.setenv("OVNI_HEADER_TIMEOUT_SECONDS", value)
    with pytest.raises(ValueError, match="OVNI_HEADER_TIMEOUT_SECONDS must be a positive number"):
        load_config()


def test_the_ui_package_imports_nothing_from_the_other_packages():
    import subprocess
    import sys

    code = (
        "import sys, ovni_ui.app, ovni_ui.api_client, ovni_ui.catalogue;"
        "bad = sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('ovni_assets', 'ovni_serving', 'dagster'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ovni_ui_refuses_an_unknown_language_in_one_line(tmp_path):
    from tests.cli import run_ovni

    done = run_ovni(tmp_path, "ui", "--port", "1", env={"OVNI_UI_LANG": "fr"}, timeout=120, expect=2)
    assert done.stderr.strip().splitlines() == ["ovni ui: OVNI_UI_LANG must be one of es, en, got 'fr'"]


def test_the_health_tab_says_whether_alerts_reach_someone(tmp_path):
    """Real alert records (a receiver answering 500, then none configured) through the real GET /alerts."""
    from fastapi.testclient import TestClient

    from ovni_assets.monitoring.alerts import held_file_alert, run_failed_alert, send_alert
    from ovni_assets.settings import OvniSettings
    from ovni_serving.app import create_app
    from tests.webhook import Receiver

    def shown(lang: str) -> str:
        with TestClient(create_app(OvniSettings(home=tmp_path), poll=False)) as client:
            return views.alert_delivery(Texts(lang), client.get("/alerts").json())

    assert shown("es") == views.banner("info", "Todavía no hay alertas registradas.")
    settings = OvniSettings(home=tmp_path, alert_retries=0, alert_timeout_seconds=1)
    send_alert(settings, held_file_alert(settings, "run-1", "clientes_x.csv", "every id changed", "c" * 64))
    assert "solo registrada: no hay canal configurado" in shown("es")
    assert "archivo retenido en cuarentena" in shown("es")

    receiver = Receiver(status=500)
    try:
        failing = settings.model_copy(update={"alert_webhook_url": receiver.url})
        send_alert(failing, run_failed_alert(failing, "run-2", "train_job", "out of memory"))
    finally:
        receiver.close()
    spanish, english = shown("es"), shown("en")
    assert 'class="ovni-banner error"' in spanish
    assert "1 alerta(s) recientes no se pudieron entregar. La más nueva: corrida fallida" in spanish
    assert "el canal webhook respondió: " in spanish and "500" in spanish
    assert "1 recent alert(s) could not be delivered. The newest: run failed" in english
