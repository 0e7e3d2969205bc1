"""deploy/kubernetes: schema-valid for a pinned Kubernetes version, and wired together.

No cluster runs here, so `kubernetes-validate` checks each object offline against the
Kubernetes OpenAPI schemas (strict: unknown fields are errors), and the tests below check
what a schema cannot: that names and selectors reference each other.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from self_healing_bot.settings import Settings
from tests.deploy.documents import (
    DEPLOY,
    REPO_ROOT,
    load_yaml,
    load_yaml_documents,
    metric_catalogue,
)

KUBERNETES_VERSION = "1.31.0"
MANIFESTS = DEPLOY / "kubernetes"
SECRET_SETTINGS = {"database_url", "broker_url", "webhook_secret", "github_token"}
POD_OWNERS = {"Deployment", "Job"}


def manifest_files() -> list[Path]:
    return [MANIFESTS / name for name in load_yaml(MANIFESTS / "kustomization.yaml")["resources"]]


def objects() -> list[dict[str, Any]]:
    return [doc for path in manifest_files() for doc in load_yaml_documents(path)]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects() if obj["kind"] == kind}


def pod_specs() -> dict[str, dict[str, Any]]:
    return {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["spec"]["template"]["spec"]
        for obj in objects()
        if obj["kind"] in POD_OWNERS
    }


def object_id(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def test_kustomization_lists_every_manifest() -> None:
    on_disk = {path.name for path in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert {path.name for path in manifest_files()} == on_disk


@pytest.mark.parametrize("obj", objects(), ids=object_id)
def test_object_matches_the_kubernetes_schema(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_misspelt_field() -> None:
    deployment = copy.deepcopy(by_kind("Deployment")["self-healing-bot-web"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("obj", objects(), ids=object_id)
def test_object_is_namespace_agnostic(obj: dict[str, Any]) -> None:
    assert "namespace" not in obj["metadata"]


def test_manifests_hold_no_secret_values() -> None:
    assert "Secret" not in {obj["kind"] for obj in objects()}
    for config_map in by_kind("ConfigMap").values():
        names = {key.removeprefix("SHBOT_").lower() for key in config_map["data"]}
        assert names <= set(Settings.model_fields), "a ConfigMap key is no SHBOT_ setting"
        assert not names & SECRET_SETTINGS


@pytest.mark.parametrize(("name", "pod"), pod_specs().items())
def test_pods_run_as_non_root_on_a_read_only_filesystem(name: str, pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001, "the uid the Dockerfile creates"
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert "/tmp" in mounts, "a read-only root needs a writable /tmp"


@pytest.mark.parametrize(("name", "pod"), pod_specs().items())
def test_containers_run_the_released_image_with_requests_and_limits(
    name: str, pod: dict[str, Any]
) -> None:
    version = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    for container in pod["containers"]:
        assert container["image"] == f"self-healing-bot:{version}"
        assert container["args"][0] in {"serve", "worker", "migrate"}
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}


def test_web_is_probed_on_healthz_and_readyz() -> None:
    container = by_kind("Deployment")["self-healing-bot-web"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["args"][-1] == str(ports["http"])
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_worker_metrics_are_scraped_where_the_worker_serves_them() -> None:
    template = by_kind("Deployment")["self-healing-bot-worker"]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    ports = {
        port["name"]: port["containerPort"] for port in template["spec"]["containers"][0]["ports"]
    }
    default_port = Settings.model_fields["worker_metrics_port"].default
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"] == default_port


def test_service_selects_web_pods_on_a_named_port() -> None:
    service = by_kind("Service")["self-healing-bot-web"]
    web = by_kind("Deployment")["self-healing-bot-web"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= web["metadata"]["labels"].items()
    port_names = {port["name"] for port in web["spec"]["containers"][0]["ports"]}
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names


def test_each_deployment_has_an_autoscaler_and_a_disruption_budget() -> None:
    deployments = by_kind("Deployment")
    scaled = {
        hpa["spec"]["scaleTargetRef"]["name"] for hpa in by_kind("HorizontalPodAutoscaler").values()
    }
    assert scaled == set(deployments)
    for budget in by_kind("PodDisruptionBudget").values():
        selector = budget["spec"]["selector"]["matchLabels"].items()
        matching = [
            name
            for name, deployment in deployments.items()
            if selector <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, f"{budget['metadata']['name']} selects {matching}"
    assert len(by_kind("PodDisruptionBudget")) == len(deployments)


def test_web_scales_on_cpu_and_worker_on_queue_depth() -> None:
    autoscalers = by_kind("HorizontalPodAutoscaler")
    web_metric = autoscalers["self-healing-bot-web"]["spec"]["metrics"][0]
    assert web_metric["type"] == "Resource" and web_metric["resource"]["name"] == "cpu"
    worker_metric = autoscalers["self-healing-bot-worker"]["spec"]["metrics"][0]
    assert worker_metric["type"] == "External"
    assert worker_metric["external"]["metric"]["name"] == "shbot_queue_depth"
    assert "shbot_queue_depth" in metric_catalogue()


def test_referenced_config_maps_exist_and_secrets_are_documented() -> None:
    config_maps = set(by_kind("ConfigMap"))
    guide = (REPO_ROOT / "docs" / "deployment.md").read_text()
    for name, pod in pod_specs().items():
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                else:
                    assert f"secret generic {source['secretRef']['name']} " in guide, name
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert f"secret generic {volume['secret']['secretName']} " in guide, name
                for item in volume["secret"]["items"]:
                    assert f"--from-file={item['key']}=" in guide, name
