"""docker-compose.yml, checked without Docker (no engine here): every service's command exists
in this project, every descent service has the settings production needs, and the order of
start-up (migrate once, then the API and workers) is what the README says."""

import os
import re
import tomllib
from pathlib import Path

import pytest
import typer
import yaml

from core.settings import PROJECT_ROOT, Settings
from descent.cli import app

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DESCENT_SERVICES = [n for n, s in SERVICES.items() if s.get("command", [""])[0] == "descent"]
PRODUCTION_SETTINGS = {
    "DESCENT_DATABASE_URL", "DESCENT_BROKER_URL", "DESCENT_ARTIFACT_STORE", "DESCENT_S3_BUCKET",
    "DESCENT_S3_ENDPOINT_URL", "DESCENT_S3_ACCESS_KEY_ID", "DESCENT_S3_SECRET_ACCESS_KEY",
}  # fmt: skip


def resolve(value: object) -> str:
    """Compose's ${VAR:-default} with nothing set: the default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", str(value))


def test_the_topology_has_every_piece():
    assert {"postgres", "redis", "minio", "minio-bucket", "migrate", "api"} <= set(SERVICES)
    assert {"worker-gpu", "worker-cpu", "flower"} <= set(SERVICES)
    assert SERVICES["flower"]["profiles"] == ["flower"]
    for name in ("postgres", "redis", "minio", "api"):
        assert "healthcheck" in SERVICES[name], name
    devices = SERVICES["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and devices[0]["capabilities"] == ["gpu"]
    assert SERVICES["worker-gpu"]["build"]["args"]["EXTRAS"] == "gpu"


@pytest.mark.parametrize("name", DESCENT_SERVICES)
def test_each_descent_command_and_its_options_exist(name: str):
    command = [resolve(part) for part in SERVICES[name]["command"]]
    group = typer.main.get_command(app)
    sub = group.commands.get(command[1])
    assert sub is not None, f"{name}: `descent {command[1]}` is not a command"
    options = {
        opt
        for param in sub.params
        for opt in [*getattr(param, "opts", []), *getattr(param, "secondary_opts", [])]
    }
    for word in command[2:]:
        if word.startswith("--"):
            assert word in options, f"{name}: `descent {command[1]}` has no option {word}"
    # It parses: the values have the right types.
    sub.make_context(command[1], command[2:], resilient_parsing=False)


def test_flowers_command_is_installed_by_the_extra_its_image_builds():
    flower = SERVICES["flower"]
    assert flower["command"][:4] == ["celery", "-A", "workers.celery_app", "flower"]
    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    built = flower["build"]["args"]["EXTRAS"].split(",")
    assert any(dep.startswith("flower") for extra in built for dep in extras[extra])
    assert (PROJECT_ROOT / "workers" / "celery_app.py").is_file()


@pytest.mark.parametrize("name", [*DESCENT_SERVICES, "flower"])
def test_each_service_has_the_production_settings_and_they_validate(
    name: str, monkeypatch: pytest.MonkeyPatch
):
    env = {key: resolve(value) for key, value in SERVICES[name]["environment"].items()}
    missing = PRODUCTION_SETTINGS - {k for k, v in env.items() if v}
    assert not missing, f"{name} does not set {sorted(missing)}"
    for key in [k for k in os.environ if k.startswith("DESCENT_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.artifact_store == "s3"
    assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert settings.resolved_broker_url.startswith("redis://")


def test_the_api_requires_keys_and_everything_waits_for_the_migration():
    assert SERVICES["api"]["environment"]["DESCENT_AUTH"] == "required"
    assert SERVICES["migrate"]["command"] == ["descent", "migrate"]
    for name in ("api", "worker-gpu", "worker-cpu"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends["minio-bucket"] == {"condition": "service_completed_successfully"}, name


def test_the_image_holds_every_package():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    packages = [
        p.name
        for p in PROJECT_ROOT.iterdir()
        if (p / "__init__.py").is_file() and p.name != "tests"
    ]
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package
    assert Path(PROJECT_ROOT / "alembic.ini").is_file()
