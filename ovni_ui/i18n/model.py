"""Texts of the Modelo y monitoreo tab: the champion card, the versions table, realized F1 and the drift chart
with its states."""

TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "tab_model": "Modelo y monitoreo",
        "alerts_none": "Todavía no hay alertas registradas.",
        "alerts_failed": (
            "{count} alerta(s) recientes no se pudieron entregar. La más nueva: {event}, {when}; "
            "el canal {channel} respondió: {error}. Revise OVNI_ALERT_WEBHOOK_URL u OVNI_ALERT_SMTP_*."
        ),
        "alerts_latest": "Última alerta: {event}, {when} ({status}). Las alertas recientes se entregaron.",
        "alerts_no_channel": (
            "Última alerta: {event}, {when}, solo registrada: no hay canal configurado "
            "(OVNI_ALERT_WEBHOOK_URL u OVNI_ALERT_SMTP_HOST)."
        ),
        "alert_file_held": "archivo retenido en cuarentena",
        "alert_run_failed": "corrida fallida",
        "alert_retrain_triggered": "reentrenamiento por cambio en los datos",
        "alert_quality_dropped": "caída del F1 real",
        "alert_champion_changed": "cambio de modelo campeón",
        "alert_data_stale": "predicciones desactualizadas",
        "stale_detail": "Las de la semana del {next_week} debían estar publicadas a más tardar el {until}.",
        "refresh": "Actualizar",
        "champion_title": "Modelo en producción (campeón)",
        "version": "Versión",
        "trained_at": "Entrenado",
        "validation_f1": "F1 de validación",
        "validation_precision": "Precisión de validación",
        "validation_recall": "Recall de validación",
        "threshold": "Umbral",
        "train_data_until": "Entrenado con datos hasta la semana del {week}.",
        "versions_title": "Versiones registradas, la más nueva primero: validación y F1 real",
        "col_version": "Versión",
        "col_trained_at": "Entrenado",
        "col_val_f1": "F1 validación",
        "col_val_precision": "Precisión validación",
        "col_val_recall": "Recall validación",
        "f1_axis": "F1 (%)",
        "col_threshold": "Umbral",
        "col_champion": "Campeón",
        "col_weeks_served": "Semanas evaluadas",
        "col_realized_f1": "F1 real promedio",
        "quality_title": "F1 real por semana (cuando llegan las compras reales)",
        "quality_empty": (
            "Todavía no hay semanas con compras reales para comparar: el F1 real de una semana se calcula "
            "cuando llegan sus compras, en la corrida siguiente."
        ),
        "quality_one_week": (
            "Una sola semana evaluada ({week}): F1 real {f1} frente a {val_f1} en validación. "
            "El gráfico de evolución aparece desde la segunda semana evaluada."
        ),
        "quality_series": "Serie",
        "validation_f1_series": "F1 de validación del modelo",
        "quality_latest": "Última semana evaluada con compras reales: {week} · F1 real {f1}",
        "realized_f1": "F1 real",
        "drift_title": "Cambio en los datos por variable (PSI); en rojo las marcadas",
        "drift_empty": (
            "Todavía no hay un informe de cambio en los datos: cada corrida semanal compara la semana nueva "
            "con los datos del modelo campeón, y la primera corrida, que entrena el primer modelo, no tiene "
            "con qué comparar."
        ),
        "drift_rule": (
            "Una variable se marca cuando su PSI es al menos {psi}, la prueba estadística confirma el cambio "
            "y el cambio es al menos {factor} veces lo que la variable se mueve en una semana normal. "
            "El color dice qué le falta a cada variable estable."
        ),
        "stable_small": "Estable: cambio pequeño",
        "stable": "Estable",
        "stable_unconfirmed": "Estable: la prueba no confirma el cambio",
        "stable_ordinary": "Estable: se mueve así en semanas normales",
        "drift_week": (
            "Informe de la semana del {week}: {flagged} de {total} variables marcadas; "
            "el gráfico muestra las {shown} que más cambiaron."
        ),
        "feature": "Variable",
        "psi": "PSI",
        "drift_flag": "Estado",
        "drifted": "Marcada",
    },
    "en": {
        "tab_model": "Model and monitoring",
        "alerts_none": "No alerts recorded yet.",
        "alerts_failed": (
            "{count} recent alert(s) could not be delivered. The newest: {event}, {when}; the {channel} "
            "channel answered: {error}. Check OVNI_ALERT_WEBHOOK_URL or OVNI_ALERT_SMTP_*."
        ),
        "alerts_latest": "Latest alert: {event}, {when} ({status}). Recent alerts were delivered.",
        "alerts_no_channel": (
            "Latest alert: {event}, {when}, recorded only: no channel is configured "
            "(OVNI_ALERT_WEBHOOK_URL or OVNI_ALERT_SMTP_HOST)."
        ),
        "alert_file_held": "file held in quarantine",
        "alert_run_failed": "run failed",
        "alert_retrain_triggered": "retraining on data drift",
        "alert_quality_dropped": "realized F1 dropped",
        "alert_champion_changed": "champion model changed",
        "alert_data_stale": "predictions out of date",
        "stale_detail": "Those for the week of {next_week} were due by {until}.",
        "refresh": "Refresh",
        "champion_title": "Model in production (champion)",
        "version": "Version",
        "trained_at": "Trained",
        "validation_f1": "Validation F1",
        "validation_precision": "Validation precision",
        "validation_recall": "Validation recall",
        "threshold": "Threshold",
        "train_data_until": "Trained on data up to the week of {week}.",
        "versions_title": "Registered versions, newest first: validation and realized F1",
        "col_version": "Version",
        "col_trained_at": "Trained",
        "col_val_f1": "Validation F1",
        "col_val_precision": "Validation precision",
        "col_val_recall": "Validation recall",
        "f1_axis": "F1 (%)",
        "col_threshold": "Threshold",
        "col_champion": "Champion",
        "col_weeks_served": "Weeks evaluated",
        "col_realized_f1": "Mean realized F1",
        "quality_title": "Realized F1 per week (once real purchases arrive)",
        "quality_empty": (
            "No week with real purchases to compare yet: a week's realized F1 is computed when its "
            "purchases arrive, in the next run."
        ),
        "quality_one_week": (
            "One week evaluated ({week}): realized F1 {f1} against {val_f1} in validation. "
            "The chart over time appears from the second evaluated week."
        ),
        "quality_series": "Series",
        "validation_f1_series": "Model's validation F1",
        "quality_latest": "Latest week evaluated against real purchases: {week} · realized F1 {f1}",
        "realized_f1": "Realized F1",
        "drift_title": "Data drift per feature (PSI); flagged ones in red",
        "drift_empty": (
            "No data drift report yet: each weekly run compares the new week with the champion model's "
            "data, and the first run, which trains the first model, has nothing to compare with."
        ),
        "drift_rule": (
            "A feature is flagged when its PSI is at least {psi}, the statistical test confirms the change "
            "and the change is at least {factor} times what the feature moves in an ordinary week. "
            "The colour says what each stable feature lacks."
        ),
        "stable_small": "Stable: small change",
        "stable": "Stable",
        "stable_unconfirmed": "Stable: the test does not confirm it",
        "stable_ordinary": "Stable: moves like this in ordinary weeks",
        "drift_week": (
            "Report for the week of {week}: {flagged} of {total} features flagged; "
            "the chart shows the {shown} that moved most."
        ),
        "feature": "Feature",
        "psi": "PSI",
        "drift_flag": "Status",
        "drifted": "Flagged",
    },
}
