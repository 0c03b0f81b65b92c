#!/usr/bin/env bash
# Keeps manifests/crd/ equal to crds/modelrollout.io_modelrollouts.yaml. kustomize refuses files outside the
# kustomization root (`kubectl apply -k manifests/` cannot read ../crds), so the install bundle carries a copy.
#
#   scripts/sync-manifest-crds.sh          copy crds/ → manifests/crd/
#   scripts/sync-manifest-crds.sh --check  exit 1 when the copy differs (ClusterSimTests checks the same)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/crds/modelrollout.io_modelrollouts.yaml
DST=$ROOT/manifests/crd/modelrollout.io_modelrollouts.yaml

if [ "${1:-}" = "--check" ]; then
    if ! cmp -s "$SRC" "$DST"; then
        echo "manifests/crd/ is stale: run scripts/sync-manifest-crds.sh" >&2
        exit 1
    fi
    echo "manifests/crd/ matches crds/"
    exit 0
fi
mkdir -p "$(dirname "$DST")"
cp "$SRC" "$DST"
echo "copied crds/modelrollout.io_modelrollouts.yaml to manifests/crd/"
