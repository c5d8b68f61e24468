# One image for every OVNI service of docker-compose.yml (code server, Dagster webserver and daemon,
# MLflow server, API, UI): they share one dependency lock, so one image is built and cached once.
# Needs BuildKit (Docker Engine 20.10+, the daemon's built-in Dockerfile front end: no `# syntax=` line, so
# nothing is fetched from an image registry). PYTHON_IMAGE picks the base: the official image, or the one
# deploy/offline/ builds from Debian packages.
# The storage drivers of some sites (vfs) copy the whole file system for every layer: layers are few.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: the virtualenv from the same requirements.lock as `make install`, and the code ----
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
COPY deploy/dagster.yaml deploy/workspace.yaml /opt/dagster/home/
COPY requirements.lock /opt/requirements.lock
# Dependencies first: this layer is rebuilt only when the lock changes, not on every code edit. The optional
# `ca_bundle` build secret is the CA bundle of a TLS-intercepting proxy between the build and the package index.
RUN --mount=type=secret,id=ca_bundle \
    --mount=type=cache,id=ovni-pip,target=/root/.cache/pip \
    --mount=type=cache,id=ovni-uv,target=/root/.cache/uv \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle SSL_CERT_FILE=/run/secrets/ca_bundle; fi \
 && python -m pip install --quiet "uv==${UV_VERSION}" \
 && python -m venv /opt/venv \
 && uv pip install --quiet --python /opt/venv/bin/python -r /opt/requirements.lock
# The code, installed editable: the venv points at /opt/ovni, which the runtime stage copies to the same path.
RUN --mount=type=secret,id=ca_bundle \
    --mount=type=cache,id=ovni-uv,target=/root/.cache/uv \
    --mount=type=bind,target=/src \
    if [ -s /run/secrets/ca_bundle ]; then export SSL_CERT_FILE=/run/secrets/ca_bundle; fi \
 && mkdir -p /opt/ovni \
 && cp -r /src/pyproject.toml /src/README.md /src/ovni_assets /src/ovni_serving /src/ovni_ui /opt/ovni/ \
 && uv pip install --quiet --python /opt/venv/bin/python --no-deps -e /opt/ovni \
 && rm -rf /opt/ovni/build /opt/requirements.lock

# ---- runtime: the venv and the code, no build tools, not root ----
FROM ${PYTHON_IMAGE} AS runtime
# Mount points of the named volumes: a fresh volume takes the content and owner of its mount point, so `ovni`
# can write and the landing zone exists before the first `docker compose cp` into it.
RUN groupadd --system --gid 10001 ovni \
 && useradd --system --uid 10001 --gid ovni --create-home --home-dir /home/ovni ovni \
 && mkdir -p /data/ovni/landing /data/ovni/quarantine /opt/dagster/storage /mlartifacts \
 && chown -R ovni:ovni /data/ovni /opt/dagster /mlartifacts
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OVNI_HOME=/data/ovni \
    DAGSTER_HOME=/opt/dagster/home
COPY --from=builder /opt /opt
USER ovni
WORKDIR /opt/ovni
EXPOSE 3000 4000 5000 7860 8000
CMD ["ovni", "--help"]
