"""deploy/prometheus/prometheus.yml: promtool accepts it, and in docker-compose.yml Prometheus
reads it from deploy/prometheus and scrapes every Descent process there is, where it listens."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from core.settings import PROJECT_ROOT, Settings
from tests.deploy.conftest import DEPLOY
from tests.test_compose import SERVICES, resolve

CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
SCRAPES = {job["job_name"]: job for job in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}


def dns_targets(job: str) -> tuple[set[str], int]:
    """The compose service names a scrape job looks up, and the port it scrapes them on."""
    [lookup] = SCRAPES[job]["dns_sd_configs"]
    return set(lookup["names"]), lookup["port"]


def option(command: list[str], name: str) -> str:
    return resolve(command[command.index(name) + 1])


def worker_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a compose service starts with (its environment, defaults resolved)."""
    env = {key: resolve(value) for key, value in SERVICES[name]["environment"].items()}
    monkeypatch.delenv("DESCENT_HOME", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings()


def test_promtool_accepts_the_config_and_the_rules_it_loads(promtool: Path):
    run = subprocess.run(
        [str(promtool), "check", "config", str(CONFIG)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 rule files found" in run.stdout


def test_compose_runs_prometheus_on_this_config():
    prometheus = SERVICES["prometheus"]
    assert "profiles" not in prometheus  # on with `docker compose up`
    mounted = {
        volume.split(":")[1]: volume.split(":")[0]
        for volume in prometheus["volumes"]
        if volume.startswith("./")
    }
    [config] = [a.split("=", 1)[1] for a in prometheus["command"] if a.startswith("--config.file=")]
    folder, file = config.rsplit("/", 1)
    assert (PROJECT_ROOT / mounted[folder] / file).resolve() == CONFIG


def test_prometheus_scrapes_the_api_on_its_port():
    names, port = dns_targets("descent-api")
    assert names == {"api"}
    assert SCRAPES["descent-api"]["metrics_path"] == "/metrics"
    assert int(option(SERVICES["api"]["command"], "--port")) == port


def test_prometheus_scrapes_every_worker_on_the_port_it_serves_metrics_on(
    monkeypatch: pytest.MonkeyPatch,
):
    workers = {
        name
        for name, service in SERVICES.items()
        if service.get("command", [""])[:2] == ["descent", "worker"]
    }
    names, port = dns_targets("descent-worker")
    assert names == workers
    for name in workers:
        settings = worker_settings(name, monkeypatch)
        assert settings.worker_metrics_port == port, name
        # Prometheus runs in another container: loopback would be out of its reach.
        assert settings.worker_metrics_host in {"0.0.0.0", "::", ""}, name
