"""Names that writers and readers share: asset keys, the materialization metadata the weekly cycle reads,
run tags, and the tags every registered model version carries.

Plain constants, no imports: the serving package reads the model-version tags from here too.
"""

# Asset keys the weekly cycle reads from the event log.
RAW_ASSETS = ("raw_transactions", "raw_customers", "raw_products")
FEATURES_ASSET = "pair_features"
DRIFT_ASSET = "drift_report"
QUALITY_ASSET = "prediction_quality"
MODEL_ASSET = "purchase_model"
PREDICTIONS_ASSET = "predictions"
SNAPSHOT_ASSET = "serving_snapshot"
# What the features and monitoring of one ingest are built from: each must be newer than the raw tables.
BUILT_FROM_RAW = (FEATURES_ASSET, DRIFT_ASSET, QUALITY_ASSET)

# Asset checks and jobs the schedules name.
SERVED_WEEK_CHECK = "served_week_is_current"  # on serving_snapshot: the served week is still current
SERVED_WEEK_JOB = "served_week_job"  # runs that check alone

# Materialization metadata keys.
NEWEST_FEATURE_WEEK = "newest_feature_week"  # pair_features: the newest feature week (ISO date text)
TARGET_WEEK = "target_week"  # pair_features and predictions: the week predicted (ISO date text)
DATA_THROUGH = "data_through"  # pair_features and predictions: the newest day with data (ISO date text)
CHAMPION_VERSION = "champion_version"  # purchase_model (materialization or `ovni promote` observation)
MODEL_VERSION = "model_version"  # purchase_model: the version trained; predictions: the version scoring
BATCH_ID = "batch_id"  # predictions and serving_snapshot
DRIFTED_FEATURES = "drifted_features"  # drift_report
DRIFT_WEEK = "week_start"  # drift_report
REFERENCE_MODEL_VERSION = "reference_model_version"  # drift_report
LATEST_F1 = "latest_f1"  # prediction_quality
LATEST_MODEL_VERSION = "latest_model_version"  # prediction_quality
LATEST_MODEL_VAL_F1 = "latest_model_val_f1"  # prediction_quality

# Run tags.
TRIGGER_TAG = "ovni/trigger"  # who started the run: cli, sensor, schedule
STEP_TAG = "ovni/step"  # the cycle step the run executes (ingest, train, predict, ...)
STEP_KEY_TAG = "ovni/step_key"  # the facts the step answers; the daemon retries one key a bounded number
STEP_REASON_TAG = "ovni/step_reason"
RETRAIN_REASON_TAG = "ovni/retrain_reason"
FAILURE_REASON_TAG = "ovni/failure_reason"

# Tags of a registered model version. A version lacking any of REQUIRED_VERSION_TAGS is half-made (its
# training stopped between registering it and tagging it): nothing promotes, compares against or serves it.
THRESHOLD_TAG = "threshold"
REQUIRED_VERSION_TAGS = (
    THRESHOLD_TAG,
    "training_snapshot_id",
    "training_rows",
    "train_last_week",
    "val_f1",
    "val_weeks",
    "val_weekly_f1",
)
PROMOTION_REASON_TAG = "promotion_reason"
PREVIOUS_CHAMPION_TAG = "previous_champion"

# Tags of an MLflow training run.
DAGSTER_RUN_ID_TAG = "dagster_run_id"  # the Dagster run that trained (also a model-version tag)
INTERRUPTED_TAG = "ovni.interrupted"  # why a run left RUNNING by a dead process was ended
