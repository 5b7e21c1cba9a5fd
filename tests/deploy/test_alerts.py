"""deploy/prometheus/alerts.yml: promtool accepts the rules, and each alert fires on the series
that should set it off and stays quiet on healthy neighbours (``alerts_test.yml``, a promtool
rule unit test)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.deploy.conftest import ALERTS, alert_rules

UNIT_TESTS = Path(__file__).parent / "alerts_test.yml"


def promtool_run(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool), *args], capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_alert_rules(promtool: Path):
    run = promtool_run(promtool, "check", "rules", str(ALERTS))
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_issue_alert_is_there_with_a_severity_and_a_summary():
    expected = {
        "DescentQueueBackingUp",
        "DescentJobWaitHigh",
        "DescentWorkerHeartbeatStale",
        "DescentPredictServerErrors",
        "DescentPredictClientErrors",
        "DescentPredictLatencyHigh",
    }
    assert expected <= {rule["alert"] for rule in alert_rules()}
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_each_alert_fires_on_the_series_that_should_set_it_off(promtool: Path):
    run = promtool_run(promtool, "test", "rules", str(UNIT_TESTS))
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_alert_has_a_unit_test_that_expects_it_to_fire():
    tests = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert firing == {rule["alert"] for rule in alert_rules()}
