"""Debian's ``prometheus`` package for the monitoring tests: ``promtool`` checks the files under
``deploy/prometheus``, and ``prometheus`` itself scrapes a running service. Without them the
tests skip with the reason; with DESCENT_TEST_REQUIRE_SERVICES=1 (as .ci/run sets, after
installing the package when it is missing) they fail instead."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import PROJECT_ROOT
from tests.conftest import missing

DEPLOY = PROJECT_ROOT / "deploy"
PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "descent.json"


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule in deploy/prometheus/alerts.yml."""
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def data_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels that query something (rows only group them)."""
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def _program(path: Path) -> Path:
    if not path.exists():
        missing(f"{path} is missing: apt-get install -y --no-install-recommends prometheus")
    return path


@pytest.fixture(scope="session")
def promtool() -> Path:
    return _program(PROMTOOL)


@pytest.fixture(scope="session")
def prometheus() -> Path:
    return _program(PROMETHEUS)
