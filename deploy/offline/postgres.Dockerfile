# PostgreSQL 15 from Debian's packages, standing in for postgres:15-bookworm where only package mirrors are
# reachable. It keeps the part of the official image's contract that docker-compose.yml relies on:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, scripts in /docker-entrypoint-initdb.d on a fresh data
# directory, PGDATA=/var/lib/postgresql/data, `pg_isready` on the PATH, port 5432.
ARG DEBIAN_IMAGE=ovni-offline/debian:bookworm
FROM ${DEBIAN_IMAGE}
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /docker-entrypoint-initdb.d "$PGDATA" /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 0700 "$PGDATA" \
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh
USER postgres
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
