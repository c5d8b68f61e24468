-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/), as POSTGRES_USER.
-- Dagster and MLflow each get their own database; both create their tables on first start.
CREATE DATABASE dagster;
CREATE DATABASE mlflow;
