# Python 3.11 from Debian's packages, standing in for python:3.11-slim-bookworm where only package mirrors
# are reachable: `python` and `python -m pip`/`venv` behave as in the official image (no PEP 668 marker,
# since, as there, nothing else in the image is managed by pip).
ARG DEBIAN_IMAGE=ovni-offline/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-pip python-is-python3 \
 && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
 && python --version
CMD ["python3"]
