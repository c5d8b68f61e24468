# syntax=docker/dockerfile:1
# One image for every OVNI service of docker-compose.yml (code server, Dagster webserver and daemon,
# MLflow server, API, UI): they share one dependency lock, so one image is built and cached once.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the virtualenv, from the same requirements.lock as `make install` ----
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m pip install --no-cache-dir "uv==${UV_VERSION}" \
 && python -m venv /opt/venv
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes, not on every code edit.
COPY requirements.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv pip install --python /opt/venv/bin/python -r requirements.lock
COPY pyproject.toml README.md ./
COPY ovni_assets ./ovni_assets
COPY ovni_serving ./ovni_serving
COPY ovni_ui ./ovni_ui
# Editable install: the venv points at /app, which the runtime stage copies to the same path.
RUN uv pip install --python /opt/venv/bin/python --no-deps -e .

# ---- runtime: the venv and the code, no build tools, not root ----
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 ovni \
 && useradd --system --uid 10001 --gid ovni --create-home --home-dir /home/ovni ovni
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OVNI_HOME=/data/ovni \
    DAGSTER_HOME=/opt/dagster/home
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/home/
# Mount points of the named volumes: a fresh volume takes the owner of its mount point, so `ovni` can write.
RUN mkdir -p /data/ovni /opt/dagster/storage /mlartifacts \
 && chown -R ovni:ovni /data/ovni /opt/dagster /mlartifacts
USER ovni
WORKDIR /app
EXPOSE 3000 4000 5000 7860 8000
CMD ["ovni", "--help"]
