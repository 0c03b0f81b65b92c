#!/usr/bin/env bash
# Runs python_client_smoke.py with PYTHON against a fresh `modelrollout sim` that has the Widget CRD.
set -u
PYTHON=${1:?usage: python-client.sh PYTHON KUBECTL}
KUBECTL=${2:?usage: python-client.sh PYTHON KUBECTL}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MODELROLLOUT_BIN:-$ROOT/.build/debug/modelrollout}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mr-python.XXXXXX")
export HOME=$WORK/home KUBECACHEDIR=$WORK/cache
mkdir -p "$HOME"
"$BIN" sim --listen 127.0.0.1:0 --kubeconfig-out "$WORK/kubeconfig" >"$WORK/sim.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 300); do
    grep -q ready "$WORK/sim.log" 2>/dev/null && [ -s "$WORK/kubeconfig" ] && break
    sleep 0.2
done
export KUBECONFIG=$WORK/kubeconfig
"$KUBECTL" apply -f "$ROOT/tests/conformance/fixtures/widget-crd.yaml" >/dev/null &&
    "$KUBECTL" wait --for=condition=Established crd/widgets.example.com --timeout=20s >/dev/null ||
    { echo "could not install the test CRD"; cat "$WORK/sim.log"; exit 1; }
"$PYTHON" "$ROOT/tests/conformance/python_client_smoke.py" "$WORK/kubeconfig"
