#!/usr/bin/env bash
# The container image's CI step where the machine allows it: build and start the image where a Docker daemon
# answers, and hadolint where it is installed. The Dockerfile and the Kubernetes manifests are linted by the
# test suite in any case (test/container).
set -euo pipefail
cd "$(dirname "$0")/.."

if docker info >/dev/null 2>&1; then
  echo "[container] docker build (CPU image)"
  docker build -t cy:ci .
  id="$(docker run -d -P cy:ci)"
  trap 'docker rm -f "$id" >/dev/null' EXIT
  # The image's own HEALTHCHECK says when it serves (a minute at most, its start period).
  for _ in $(seq 1 60); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ] && break
    sleep 2
  done
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$id")" = healthy ] || { docker logs "$id"; echo "[container] the image never became healthy"; exit 1; }
  [ "$(docker exec "$id" id -u)" != 0 ] || { echo "[container] the image runs as root"; exit 1; }
  echo "[container] image healthy, running as $(docker exec "$id" id -un)"
else
  echo "[container] no Docker daemon here: the image is not built (npm test lints the Dockerfile and manifests)"
fi

if command -v hadolint >/dev/null 2>&1; then
  hadolint Dockerfile
else
  echo "[container] hadolint is not installed (Debian and npm have none): npm test lints with dockerfile-utils"
fi
