#!/usr/bin/env bash
# Back up or restore every volume of the OVNI compose stack (docs/operations.md).
#
#   deploy/compose-volumes.sh [-p PROJECT] backup DIR    stop the stack, archive each volume into DIR/<time>/,
#                                                       write SHA256SUMS, start the stack again
#   deploy/compose-volumes.sh [-p PROJECT] restore DIR   check DIR's SHA256SUMS, then fill the project's
#                                                       volumes, which must not exist yet; `docker compose
#                                                       up -d` then finds the state as it was
#
# A cold copy: Postgres (Dagster's instance, MLflow's registry), OVNI_HOME (warehouse, snapshot, models,
# landing, quarantine) and the step logs are archived together while no service writes, so they agree.
# Run from the repository (the folder of docker-compose.yml) with the same .env as the stack. Archives are
# made by the stack's own image (OVNI_IMAGE, default ovni:latest): nothing is pulled.
set -euo pipefail

project="${COMPOSE_PROJECT_NAME:-ovni}"
if [[ "${1:-}" == "-p" ]]; then
    project="$2"
    shift 2
fi
action="${1:-}"
dir="${2:-}"
if [[ -z "$action" || -z "$dir" || ! "$action" =~ ^(backup|restore)$ ]]; then
    echo "usage: $0 [-p PROJECT] backup|restore DIR" >&2
    exit 2
fi
image="${OVNI_IMAGE:-ovni:latest}"
volumes=(postgres_data ovni_home dagster_storage mlflow_artifacts)

# Runs tar as root in a throwaway container of the stack's image, without a network.
in_container() {
    docker run --rm --network none --user 0 --entrypoint tar "$@"
}

volume_name() {
    echo "${project}_$1"
}

backup() {
    local target
    target="$(realpath -m "$dir")/ovni-volumes-$(date -u +%Y%m%dT%H%M%SZ)"
    local partial="${target%/*}/.partial-${target##*/}"
    mkdir -p "$partial"
    docker compose -p "$project" stop
    trap 'docker compose -p "$project" start' EXIT
    for volume in "${volumes[@]}"; do
        in_container -v "$(volume_name "$volume"):/volume:ro" -v "$partial:/backup" "$image" \
            --numeric-owner -C /volume -cf "/backup/$volume.tar" .
    done
    (cd "$partial" && sha256sum -- *.tar > SHA256SUMS)
    mv "$partial" "$target"
    echo "compose-volumes: $target complete (${volumes[*]})"
}

restore() {
    local source
    source="$(realpath "$dir")"
    (cd "$source" && sha256sum --check --quiet SHA256SUMS) || {
        echo "compose-volumes: $source does not match its SHA256SUMS; nothing was restored" >&2
        exit 1
    }
    for volume in "${volumes[@]}"; do
        if docker volume inspect "$(volume_name "$volume")" > /dev/null 2>&1; then
            echo "compose-volumes: volume $(volume_name "$volume") exists; restore only into a project" \
                "without volumes (docker compose down -v first); nothing was restored" >&2
            exit 1
        fi
    done
    for volume in "${volumes[@]}"; do
        docker volume create --label "com.docker.compose.project=$project" \
            --label "com.docker.compose.volume=$volume" "$(volume_name "$volume")" > /dev/null
        in_container -v "$(volume_name "$volume"):/volume" -v "$source:/backup:ro" "$image" \
            --numeric-owner --same-permissions -C /volume -xf "/backup/$volume.tar"
    done
    echo "compose-volumes: ${volumes[*]} restored from $source; start the stack with docker compose up -d"
}

"$action"
