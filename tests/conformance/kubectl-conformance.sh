#!/usr/bin/env bash
# Conformance of the emulated cluster with a real kubectl.
#
#   tests/conformance/kubectl-conformance.sh KUBECTL [LABEL]
#
# Starts `modelrollout sim` (HTTP, then HTTPS with a bearer token) with a fresh HOME and discovery cache,
# drives KUBECTL through every check listed below, and prints one line per check and a closing
# "N passed, M failed" line. Exit status 0 only when every check passed.
#
# The checks (this list is the single place they are defined):
#   version            kubectl version reaches the server (minor 32)
#   crd-apply          apply a CRD; wait --for=condition=Established
#   cr-create          apply a custom resource -> "created"
#   cr-unchanged       re-apply the same file -> "unchanged"
#   cr-configured      apply a changed file -> "configured"
#   cr-defaults        server-side defaulting filled spec.tier
#   cr-invalid         schema validation rejects an invalid CR (422 Invalid)
#   get-table          get shows the CRD printer columns
#   get-json/yaml/jsonpath/name  output formats
#   get-label          get -A -l app=demo finds the CR with the NAMESPACE column
#   get-watch          get -w prints a change made while watching
#   patch-merge        patch --type merge
#   patch-json         patch --type json
#   patch-strategic    strategic patch on a built-in (ConfigMap) keeps other keys
#   patch-strategic-cr strategic patch on a CR is refused (415)
#   patch-status       patch --subresource=status changes status only
#   apply-builtin      apply a ConfigMap, then a changed one -> "configured"
#   events-v1          an events.k8s.io/v1 Event about the ConfigMap shows in get events (core/v1) and describe
#   scale              kubectl scale on a CR with a scale subresource
#   wait-condition     wait --for=condition=Ready after a status write
#   ssa                apply --server-side creates, re-applies, conflicts without --force-conflicts
#   deploy-ready       a vLLM Deployment becomes Available (wait --for=condition=Available)
#   get-pods-table     pods show READY/STATUS columns
#   logs               logs -c vllm shows the model-load line; --tail, --timestamps, --since
#   raw                get --raw /version and an API path
#   proxy              get --raw through the pod proxy to the simulated vLLM /v1/models
#   inspect            kubectl logs / get --raw .../metrics piped into modelrollout inspect log|metrics --json
#   delete             delete a CR; wait --for=delete
#   delete-finalizer   delete with a finalizer waits until the finalizer is removed
#   not-found          get of a missing object -> NotFound error
#   mr-crds            apply -f crds/ (ModelRollout, HTTPRoute, InferencePool); all become Established
#   mr-samples         apply -f manifests/samples/ creates the route, the rollout, the Deployments and Services
#   mr-get             get mr shows PHASE STABLE CANDIDATE WEIGHT READY AGE, filled from a status write
#   mr-invalid         an invalid ModelRollout is refused with the schema's field errors (422 Invalid)
#   pool-discovery     api-resources lists inferencepools (short name infpool) in inference.networking.k8s.io/v1
#   pool-apply         apply an InferencePool -> "created"; re-apply -> "unchanged"
#   pool-get           get inferencepools shows NAME SELECTOR TARGET PORT AGE, -o wide adds ENDPOINT PICKER;
#                      get infpool works
#   pool-yaml          get inferencepool -o yaml shows the spec with its defaults; replace -f with that output is
#                      accepted and changes nothing
#   pool-invalid       a pool without targetPorts is refused by the schema (spec.targetPorts: Required value)
#   pool-samples       apply --dry-run=server -f manifests/samples/inferencepool/ is accepted (Deployments, pools,
#                      the pool route, the ModelRollout with spec.inferencePool); nothing persists
#   install-dry-run    apply --dry-run=server -k manifests/ (after its namespace exists) succeeds; nothing persists
#   rbac-get           apply -f manifests/rbac/ creates the RBAC objects; get rolebinding -o wide shows the subjects
#   tls-token          over HTTPS with a bearer token: get works
#   tls-wrong-token    a wrong token -> Unauthorized
set -u

KUBECTL=${1:?usage: kubectl-conformance.sh KUBECTL [LABEL]}
LABEL=${2:-$KUBECTL}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${MODELROLLOUT_BIN:-$ROOT/.build/debug/modelrollout}
FIX=$ROOT/tests/conformance/fixtures
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mr-conformance.XXXXXX")
export HOME=$WORK/home KUBECACHEDIR=$WORK/cache
mkdir -p "$HOME"
NS=llm-serving
PASSED=0
FAILED=0
FAILED_NAMES=()
SIM_PIDS=()

cleanup() {
    for pid in "${SIM_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "(work directory kept: $WORK)"; fi
}
trap cleanup EXIT

# start_sim NAME [sim flags...]: starts a simulator, waits for its ready line, sets KUBECONFIG.
start_sim() {
    local name=$1
    shift
    local log=$WORK/$name.log
    "$BIN" sim --listen 127.0.0.1:0 --kubeconfig-out "$WORK/$name.kubeconfig" --time-scale 60 "$@" >"$log" 2>&1 &
    SIM_PIDS+=($!)
    for _ in $(seq 1 300); do
        if grep -q "ready" "$log" 2>/dev/null && [ -s "$WORK/$name.kubeconfig" ]; then
            export KUBECONFIG=$WORK/$name.kubeconfig
            return 0
        fi
        sleep 0.2
    done
    echo "simulator $name did not become ready; its output:"
    cat "$log"
    exit 1
}

k() { "$KUBECTL" "$@"; }

# check NAME COMMAND...: runs COMMAND (a shell function or command); a zero exit status passes.
check() {
    local name=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        PASSED=$((PASSED + 1))
        printf '  ok    %-20s\n' "$name"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$name")
        printf '  FAIL  %-20s\n' "$name"
        printf '%s\n' "$out" | sed 's/^/          /' | head -40
    fi
}

# expect REGEX COMMAND...: the command succeeds and its combined output matches REGEX.
expect() {
    local regex=$1
    shift
    local out
    out=$("$@" 2>&1) || { echo "command failed: $*"; echo "$out"; return 1; }
    if ! grep -Eq -- "$regex" <<<"$out"; then
        echo "output of '$*' does not match /$regex/:"
        echo "$out"
        return 1
    fi
    echo "$out"
}

# expect_fail REGEX COMMAND...: the command fails and its combined output matches REGEX.
expect_fail() {
    local regex=$1
    shift
    local out
    if out=$("$@" 2>&1); then
        echo "command unexpectedly succeeded: $*"
        echo "$out"
        return 1
    fi
    grep -Eq -- "$regex" <<<"$out" || { echo "error output does not match /$regex/:"; echo "$out"; return 1; }
}

echo "kubectl conformance with $LABEL ($("$KUBECTL" version --client 2>/dev/null | head -1))"
start_sim http

t_version() { expect 'Server Version: v1\.32' k version; }
t_crd() {
    expect 'customresourcedefinition.apiextensions.k8s.io/widgets.example.com created' \
        k apply -f "$FIX/widget-crd.yaml" &&
        expect 'condition met' k wait --for=condition=Established crd/widgets.example.com --timeout=20s
}
t_cr_create() { expect 'widget.example.com/w1 created' k apply -f "$FIX/widget-w1.yaml"; }
t_cr_unchanged() { expect 'widget.example.com/w1 unchanged' k apply -f "$FIX/widget-w1.yaml"; }
t_cr_configured() {
    expect 'widget.example.com/w1 configured' k apply -f "$FIX/widget-w1-changed.yaml" &&
        expect '^3$' k get widget w1 -n $NS -o jsonpath='{.spec.replicas}'
}
t_cr_defaults() { expect '^silver$' k get widget w1 -n $NS -o jsonpath='{.spec.tier}'; }
t_cr_invalid() { expect_fail 'Invalid|invalid' k apply -f "$FIX/widget-invalid.yaml"; }
t_get_table() {
    expect 'NAME +MODEL +REPLICAS +READY +AGE' k get widgets -n $NS &&
        expect 'w1 +meta-llama/Llama-3.1-8B-Instruct +3' k get wd -n $NS
}
t_get_json() { expect '"kind": "Widget"' k get widget w1 -n $NS -o json; }
t_get_yaml() { expect '^kind: Widget' k get widget w1 -n $NS -o yaml; }
t_get_jsonpath() { expect '^w1$' k get widgets -n $NS -o jsonpath='{.items[0].metadata.name}'; }
t_get_name() { expect '^widget.example.com/w1$' k get widgets -n $NS -o name; }
t_get_label() { expect "^NAMESPACE +NAME.*"$'\n'"$NS +w1" k get widgets -A -l app=demo; }
t_get_watch() {
    local out=$WORK/watch.out
    timeout 8 "$KUBECTL" get widgets -n $NS -w >"$out" 2>&1 &
    local pid=$!
    sleep 2
    k patch widget w1 -n $NS --type merge -p '{"spec":{"model":"watched-model"}}' >/dev/null
    wait $pid
    grep -q 'watched-model' "$out" || { echo "watch output:"; cat "$out"; return 1; }
}
t_patch_merge() {
    expect 'widget.example.com/w1 patched' k patch widget w1 -n $NS --type merge -p '{"spec":{"model":"m2"}}' &&
        expect '^m2$' k get widget w1 -n $NS -o jsonpath='{.spec.model}'
}
t_patch_json() {
    expect 'patched' k patch widget w1 -n $NS --type json -p '[{"op":"replace","path":"/spec/model","value":"m3"}]' &&
        expect '^m3$' k get widget w1 -n $NS -o jsonpath='{.spec.model}'
}
t_patch_strategic() {
    k apply -f "$FIX/configmap.yaml" >/dev/null &&
        expect 'configmap/settings patched' k patch configmap settings -n $NS -p '{"data":{"c":"3"}}' &&
        expect '^1 2 3$' k get configmap settings -n $NS -o jsonpath='{.data.a} {.data.b} {.data.c}'
}
t_patch_strategic_cr() {
    expect_fail 'strategic-merge-patch\+json is not supported' k patch widget w1 -n $NS -p '{"spec":{"model":"x"}}'
}
t_patch_status() {
    k patch widget w1 -n $NS --subresource=status --type merge \
        -p '{"status":{"replicas":2,"selector":"app=demo"}}' >/dev/null &&
        expect '^2 m3$' k get widget w1 -n $NS -o jsonpath='{.status.replicas} {.spec.model}'
}
t_apply_builtin() { expect 'configmap/settings configured' k apply -f "$FIX/configmap-changed.yaml"; }
create_event_v1() {
    local uid now
    uid=$(k get configmap settings -n $NS -o jsonpath='{.metadata.uid}') || return 1
    now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
    k create -f - <<EOF
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: settings.conformance, namespace: $NS}
eventTime: "$now"
reportingController: example.com/conformance
reportingInstance: conformance-0
action: Check
reason: Conformed
type: Normal
note: checked through events.k8s.io
regarding: {apiVersion: v1, kind: ConfigMap, name: settings, namespace: $NS, uid: "$uid"}
EOF
}
t_events_v1() {
    expect 'settings\.conformance created' create_event_v1 &&
        expect 'Normal +Conformed +configmap/settings +checked through events\.k8s\.io' k get events -n $NS &&
        expect '^checked through events\.k8s\.io$' k get events -n $NS --field-selector involvedObject.name=settings \
            -o jsonpath='{.items[0].message}' &&
        expect 'Normal +Conformed +.* example\.com/conformance.* checked through events\.k8s\.io' \
            k describe configmap settings -n $NS
}
t_scale() {
    expect 'widget.example.com/w1 scaled' k scale widget w1 -n $NS --replicas=5 &&
        expect '^5$' k get widget w1 -n $NS -o jsonpath='{.spec.replicas}'
}
t_wait_condition() {
    local gen
    gen=$(k get widget w1 -n $NS -o jsonpath='{.metadata.generation}')
    k patch widget w1 -n $NS --subresource=status --type merge -p \
        "{\"status\":{\"observedGeneration\":$gen,\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Done\",\"message\":\"ok\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}" \
        >/dev/null &&
        expect 'condition met' k wait --for=condition=Ready widget/w1 -n $NS --timeout=20s &&
        expect 'w1 .* True' k get widget w1 -n $NS
}
t_ssa() {
    expect 'widget.example.com/w-ssa serverside-applied' k apply --server-side -f "$FIX/widget-ssa.yaml" &&
        expect 'serverside-applied' k apply --server-side -f "$FIX/widget-ssa.yaml" &&
        k patch widget w-ssa -n $NS --type merge -p '{"spec":{"replicas":7}}' >/dev/null &&
        expect_fail 'conflict' k apply --server-side --field-manager=other -f "$FIX/widget-ssa.yaml" &&
        expect 'serverside-applied' k apply --server-side --field-manager=other --force-conflicts -f "$FIX/widget-ssa.yaml"
}
t_deploy_ready() {
    expect 'deployment.apps/vllm-llama-r1 created' k apply -f "$FIX/vllm-deployment.yaml" &&
        expect 'condition met' k wait --for=condition=Available deployment/vllm-llama-r1 -n $NS --timeout=60s &&
        expect 'vllm-llama-r1 +1/1 +1 +1' k get deployments -n $NS
}
pod_name() { k get pods -n $NS -l app=vllm-llama -o jsonpath='{.items[0].metadata.name}'; }
t_get_pods_table() { expect 'NAME +READY +STATUS +RESTARTS +AGE'$'\n''vllm-llama-r1-[a-z0-9]+-[a-z0-9]{5} +2/2 +Running' k get pods -n $NS; }
t_logs() {
    local pod
    pod=$(pod_name)
    expect 'Model loading took' k logs "$pod" -n $NS -c vllm &&
        expect '^.+$' k logs "$pod" -n $NS -c vllm --tail=2 &&
        [ "$(k logs "$pod" -n $NS -c vllm --tail=2 | wc -l)" -eq 2 ] &&
        expect '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' k logs "$pod" -n $NS -c vllm --tail=1 --timestamps &&
        expect 'Application startup complete' k logs "$pod" -n $NS -c vllm --since=1h &&
        expect_fail 'a container name must be specified' k get --raw "/api/v1/namespaces/$NS/pods/$pod/log"
}
t_raw() {
    expect '"minor": ?"32"' k get --raw /version &&
        expect '"kind":"WidgetList"' k get --raw /apis/example.com/v1/namespaces/$NS/widgets
}
t_proxy() {
    local pod
    pod=$(pod_name)
    expect '"id":"meta-llama/Llama-3.1-8B-Instruct"' k get --raw "/api/v1/namespaces/$NS/pods/$pod:8000/proxy/v1/models"
}
t_inspect() {
    local pod
    pod=$(pod_name)
    expect '"phase": "Serving"' sh -c "\"$KUBECTL\" logs $pod -n $NS -c vllm --timestamps | \"$BIN\" inspect log - --json" &&
        expect '"modelLoaded": true' sh -c "\"$KUBECTL\" logs $pod -n $NS -c vllm | \"$BIN\" inspect log --json" &&
        expect '"model": "meta-llama/Llama-3.1-8B-Instruct"' sh -c \
            "\"$KUBECTL\" get --raw /api/v1/namespaces/$NS/pods/$pod:8000/proxy/metrics | \"$BIN\" inspect metrics - --json"
}
t_delete() {
    k apply -f "$FIX/widget-w1.yaml" >/dev/null
    expect 'widget.example.com "w1" deleted' k delete widget w1 -n $NS &&
        expect_fail 'NotFound|not found' k get widget w1 -n $NS &&
        k wait --for=delete widget/w1 -n $NS --timeout=10s
}
t_delete_finalizer() {
    k apply -f "$FIX/widget-w1.yaml" >/dev/null &&
        k patch widget w1 -n $NS --type merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null &&
        k delete widget w1 -n $NS --wait=false >/dev/null &&
        expect '^[0-9]{4}-' k get widget w1 -n $NS -o jsonpath='{.metadata.deletionTimestamp}' &&
        {
            (sleep 2 && k patch widget w1 -n $NS --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null) &
            k wait --for=delete widget/w1 -n $NS --timeout=20s
        }
}
t_not_found() { expect_fail 'Error from server \(NotFound\): widgets.example.com "nope" not found' k get widget nope -n $NS; }

t_mr_crds() {
    expect 'apiextensions.k8s.io/modelrollouts.modelrollout.io (created|configured|unchanged)' k apply -f "$ROOT/crds/" &&
        expect 'condition met' k wait --for=condition=Established crd/modelrollouts.modelrollout.io \
            crd/httproutes.gateway.networking.k8s.io crd/inferencepools.inference.networking.k8s.io --timeout=20s
}
t_mr_samples() {
    # The samples' vllm-llama-r1 has another selector than the fixture Deployment of the same name.
    k delete deployment vllm-llama-r1 -n $NS --ignore-not-found >/dev/null || return 1
    local out want
    out=$(k apply -f "$ROOT/manifests/samples/" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    for want in 'httproute.gateway.networking.k8s.io/llm-chat created' 'modelrollout.modelrollout.io/chat created' \
        'deployment.apps/vllm-llama-r1 created' 'deployment.apps/vllm-llama-r2 created' 'service/vllm-llama-r2 created'; do
        grep -qF "$want" <<<"$out" || { echo "missing: $want"; return 1; }
    done
    local rule='{.spec.rules[0].matches[0].path.type} {.spec.rules[0].matches[0].path.value}'
    rule+=' {.spec.rules[0].backendRefs[0].name} {.spec.rules[0].backendRefs[0].weight}'
    expect '^PathPrefix /v1 vllm-llama-r1 100$' k get httproute llm-chat -n $NS -o jsonpath="$rule"
}
t_mr_get() {
    expect 'NAME +PHASE +STABLE +CANDIDATE +WEIGHT +READY +AGE'$'\n''chat ' k get mr -n $NS &&
        k patch mr chat -n $NS --subresource=status --type merge -p '{"status":{"phase":"Progressing",
            "stableDeployment":"vllm-llama-r1","candidateDeployment":"vllm-llama-r2",
            "weights":{"stable":90,"candidate":10},"ready":"3/4"}}' >/dev/null &&
        expect 'chat +Progressing +vllm-llama-r1 +vllm-llama-r2 +10 +3/4 ' k get modelrollouts -n $NS &&
        expect '^20m 10 Active$' k get mr chat -n $NS \
            -o jsonpath='{.spec.readinessTimeout} {.spec.steps[0].weight} {.spec.mode}'
}
apply_invalid_mr() {
    k apply -f - <<'EOF'
apiVersion: modelrollout.io/v1alpha1
kind: ModelRollout
metadata: {name: bad, namespace: llm-serving}
spec:
  model: meta-llama/Llama-3.1-8B-Instruct
  deployment: vllm-llama-r2
  route: {name: llm-chat}
  readinessTimeout: soon
  steps: [{weight: 150}]
  mode: Foo
EOF
}
t_mr_invalid() {
    expect_fail 'ModelRollout "bad" is invalid' apply_invalid_mr &&
        expect_fail 'spec.mode: Unsupported value: "Foo"' apply_invalid_mr &&
        expect_fail 'spec.steps\[0\].weight: Invalid value: 150' apply_invalid_mr &&
        expect_fail 'spec.readinessTimeout: Invalid value: "soon"' apply_invalid_mr &&
        expect_fail 'NotFound|not found' k get mr bad -n $NS
}

POOL=inferencepool.inference.networking.k8s.io/vllm-llama-r1
t_pool_discovery() {
    expect '^inferencepools +infpool +inference\.networking\.k8s\.io/v1 +true +InferencePool$' \
        k api-resources --api-group=inference.networking.k8s.io
}
t_pool_apply() {
    expect "^$POOL created\$" k apply -f "$FIX/inferencepool.yaml" &&
        expect "^$POOL unchanged\$" k apply -f "$FIX/inferencepool.yaml"
}
t_pool_get() {
    local row='^vllm-llama-r1 +\{"app":"vllm-llama","revision":"r1"\} +8000 +[0-9]+[smh]$'
    expect '^NAME +SELECTOR +TARGET PORT +AGE$' k get inferencepools -n $NS &&
        expect "$row" k get inferencepools -n $NS &&
        expect '^NAME +SELECTOR +TARGET PORT +ENDPOINT PICKER +AGE$' k get inferencepools -n $NS -o wide &&
        expect '^vllm-llama-r1 +\{.*\} +8000 +vllm-llama-r1-epp +[0-9]+[smh]$' k get inferencepools -n $NS -o wide &&
        expect '^vllm-llama-r1 ' k get infpool -n $NS
}
t_pool_yaml() {
    local out=$WORK/pool.yaml want gen
    k get inferencepool vllm-llama-r1 -n $NS -o yaml >"$out" || return 1
    for want in '^apiVersion: inference\.networking\.k8s\.io/v1$' '^kind: InferencePool$' '^  appProtocol: http$' \
        '^    failureMode: FailClose$' '^    kind: Service$' '^      revision: r1$' '^  - number: 8000$'; do
        grep -Eq -- "$want" "$out" || { echo "no line matches /$want/ in:"; cat "$out"; return 1; }
    done
    gen=$(k get inferencepool vllm-llama-r1 -n $NS -o jsonpath='{.metadata.generation}') || return 1
    expect "^$POOL replaced\$" k replace -f "$out" &&
        expect "^$gen 8000 vllm-llama-r1-epp\$" k get inferencepool vllm-llama-r1 -n $NS \
            -o jsonpath='{.metadata.generation} {.spec.targetPorts[0].number} {.spec.endpointPickerRef.name}'
}
t_pool_samples() {
    local out want
    out=$(k apply --dry-run=server -f "$ROOT/manifests/samples/inferencepool/" 2>&1) || { echo "$out"; return 1; }
    echo "$out"
    for want in 'inferencepool.inference.networking.k8s.io/vllm-llama-r1-pool created (server dry run)' \
        'inferencepool.inference.networking.k8s.io/vllm-llama-r2-pool created (server dry run)' \
        'httproute.gateway.networking.k8s.io/llm-chat configured (server dry run)' \
        'modelrollout.modelrollout.io/chat configured (server dry run)'; do
        grep -qF "$want" <<<"$out" || { echo "missing: $want"; return 1; }
    done
    expect_fail 'NotFound|not found' k get inferencepool vllm-llama-r1-pool -n $NS
}
t_pool_invalid() {
    expect_fail 'InferencePool "no-ports" is invalid' k apply -f "$FIX/inferencepool-invalid.yaml" &&
        expect_fail 'spec\.targetPorts: Required value' k apply -f "$FIX/inferencepool-invalid.yaml" &&
        expect_fail 'NotFound|not found' k get inferencepool no-ports -n $NS
}

check version t_version
check crd-apply t_crd
check cr-create t_cr_create
check cr-unchanged t_cr_unchanged
check cr-configured t_cr_configured
check cr-defaults t_cr_defaults
check cr-invalid t_cr_invalid
check get-table t_get_table
check get-json t_get_json
check get-yaml t_get_yaml
check get-jsonpath t_get_jsonpath
check get-name t_get_name
check get-label t_get_label
check get-watch t_get_watch
check patch-merge t_patch_merge
check patch-json t_patch_json
check patch-strategic t_patch_strategic
check patch-strategic-cr t_patch_strategic_cr
check patch-status t_patch_status
check apply-builtin t_apply_builtin
check events-v1 t_events_v1
check scale t_scale
check wait-condition t_wait_condition
check ssa t_ssa
check deploy-ready t_deploy_ready
check get-pods-table t_get_pods_table
check logs t_logs
check raw t_raw
check proxy t_proxy
check inspect t_inspect
check delete t_delete
check delete-finalizer t_delete_finalizer
check not-found t_not_found
check mr-crds t_mr_crds
check mr-samples t_mr_samples
check mr-get t_mr_get
check mr-invalid t_mr_invalid
check pool-discovery t_pool_discovery
check pool-apply t_pool_apply
check pool-get t_pool_get
check pool-yaml t_pool_yaml
check pool-invalid t_pool_invalid
check pool-samples t_pool_samples

# The install bundle. As with a real API server, a dry run cannot create objects in a namespace that does not
# exist yet (the Namespace of the same apply is not persisted), so the namespace is applied first.
t_install_dry_run() {
    expect 'namespace/modelrollout-system (created|unchanged)' k apply -f "$ROOT/manifests/namespace.yaml" &&
        expect 'deployment.apps/modelrollout-controller created \(server dry run\)' \
            k apply --dry-run=server -k "$ROOT/manifests/" &&
        expect 'clusterrole.rbac.authorization.k8s.io/modelrollout-controller created \(server dry run\)' \
            k apply --dry-run=server -k "$ROOT/manifests/" &&
        expect_fail 'NotFound|not found' k get clusterrole modelrollout-controller &&
        expect_fail 'NotFound|not found' k get deployment modelrollout-controller -n modelrollout-system
}
t_rbac_get() {
    expect 'rolebinding.rbac.authorization.k8s.io/modelrollout-leader-election created' \
        k apply -f "$ROOT/manifests/rbac/" &&
        expect 'Role/modelrollout-leader-election .*modelrollout-system:modelrollout-controller' \
            k get rolebinding -n modelrollout-system -o wide &&
        expect 'modelrollout-controller +ClusterRole/modelrollout-controller' k get clusterrolebinding &&
        expect 'unchanged' k apply -f "$ROOT/manifests/rbac/"
}
check install-dry-run t_install_dry_run
check rbac-get t_rbac_get

start_sim https --tls --token conformance-token
t_tls_token() { expect 'default' k get namespaces; }
t_tls_wrong_token() {
    sed 's/conformance-token/wrong-token/' "$WORK/https.kubeconfig" >"$WORK/wrong.kubeconfig"
    KUBECONFIG=$WORK/wrong.kubeconfig expect_fail 'Unauthorized|provide credentials' k get namespaces
}
check tls-token t_tls_token
check tls-wrong-token t_tls_wrong_token

echo "kubectl conformance ($LABEL): $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
