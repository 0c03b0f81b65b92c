"""Smoke test of the real Kubernetes Python client against `modelrollout sim`.

Usage: python_client_smoke.py KUBECONFIG
Covers list, watch (with bookmarks), patch (strategic and merge), the status and scale subresources of a custom
resource, and creating a coordination.k8s.io/v1 Lease. Prints one line per check and "N passed, M failed".
"""
import datetime
import sys
import threading
import time
import traceback

from kubernetes import client, config, watch

NS = "llm-serving"
checks = []


def check(fn):
    checks.append(fn)
    return fn


@check
def list_namespaces(api):
    names = [n.metadata.name for n in client.CoreV1Api(api).list_namespace().items]
    assert NS in names and "default" in names, names


@check
def configmap_patch(api):
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-cm"), data={"a": "1"})
    core.create_namespaced_config_map(NS, body)
    core.patch_namespaced_config_map("py-cm", NS, {"data": {"b": "2"}})  # strategic merge patch
    cm = core.read_namespaced_config_map("py-cm", NS)
    assert cm.data == {"a": "1", "b": "2"}, cm.data


@check
def watch_configmaps(api):
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map(NS)
    rv = listed.metadata.resource_version
    seen = []

    def mutate():
        time.sleep(0.5)
        core.patch_namespaced_config_map("py-cm", NS, {"data": {"c": "3"}})

    t = threading.Thread(target=mutate)
    t.start()
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NS, resource_version=rv,
                          allow_watch_bookmarks=True, timeout_seconds=5):
        obj = event["object"]
        name = obj.metadata.name if hasattr(obj, "metadata") else None
        seen.append((event["type"], name))
        if event["type"] == "MODIFIED" and name == "py-cm":
            w.stop()
    t.join()
    assert ("MODIFIED", "py-cm") in seen, seen


@check
def custom_resource_status_and_scale(api):
    co = client.CustomObjectsApi(api)
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "py-w"},
            "spec": {"model": "m", "replicas": 1}}
    co.create_namespaced_custom_object("example.com", "v1", NS, "widgets", body)
    co.patch_namespaced_custom_object("example.com", "v1", NS, "widgets", "py-w", {"spec": {"model": "m2"}})
    co.patch_namespaced_custom_object_status("example.com", "v1", NS, "widgets", "py-w",
                                             {"status": {"replicas": 1, "selector": "app=py"}})
    co.patch_namespaced_custom_object_scale("example.com", "v1", NS, "widgets", "py-w",
                                            {"spec": {"replicas": 4}})
    obj = co.get_namespaced_custom_object("example.com", "v1", NS, "widgets", "py-w")
    assert obj["spec"]["model"] == "m2", obj
    assert obj["spec"]["replicas"] == 4, obj
    assert obj["status"]["replicas"] == 1, obj
    scale = co.get_namespaced_custom_object_scale("example.com", "v1", NS, "widgets", "py-w")
    assert scale["spec"]["replicas"] == 4 and scale["status"]["selector"] == "app=py", scale


@check
def lease_create(api):
    coord = client.CoordinationV1Api(api)
    now = datetime.datetime.now(datetime.timezone.utc)
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name="py-lease"),
                           spec=client.V1LeaseSpec(holder_identity="py", lease_duration_seconds=15,
                                                   acquire_time=now, renew_time=now, lease_transitions=0))
    coord.create_namespaced_lease(NS, lease)
    got = coord.read_namespaced_lease("py-lease", NS)
    assert got.spec.holder_identity == "py", got


@check
def deployment_scale(api):
    apps = client.AppsV1Api(api)
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "py-web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.27")]))))
    apps.create_namespaced_deployment(NS, dep)
    apps.patch_namespaced_deployment_scale("py-web", NS, {"spec": {"replicas": 2}})
    assert apps.read_namespaced_deployment_scale("py-web", NS).spec.replicas == 2


def main():
    config.load_kube_config(config_file=sys.argv[1])
    api = client.ApiClient()
    passed = failed = 0
    for fn in checks:
        try:
            fn(api)
            passed += 1
            print(f"  ok    {fn.__name__}")
        except Exception:  # report every failure, keep going
            failed += 1
            print(f"  FAIL  {fn.__name__}")
            print("        " + traceback.format_exc().replace("\n", "\n        "))
    print(f"python client: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
