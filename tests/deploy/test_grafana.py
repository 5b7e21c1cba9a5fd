"""deploy/grafana: the dashboard JSON has the shape Grafana loads (a schema check of the fields it
needs), every data panel queries Prometheus through the provisioned datasource, the panels
tile the grid, and in docker-compose.yml Grafana (profile ``monitoring``) loads both.

That each expression is valid PromQL over metrics the service serves is checked against a real
Prometheus, in test_prometheus_scrape.py."""

from __future__ import annotations

import jsonschema
import yaml

from core.settings import PROJECT_ROOT
from tests.deploy.conftest import DASHBOARD, DEPLOY, dashboard, data_panels
from tests.test_compose import SERVICES

GRAFANA = DEPLOY / "grafana"
PROVISIONING = GRAFANA / "provisioning"
DATASOURCES = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
PROVIDERS = yaml.safe_load((PROVISIONING / "dashboards" / "descent.yml").read_text())

GRID_POS = {
    "type": "object",
    "required": ["h", "w", "x", "y"],
    "properties": {
        "h": {"type": "integer", "minimum": 1},
        "w": {"type": "integer", "minimum": 1, "maximum": 24},
        "x": {"type": "integer", "minimum": 0, "maximum": 23},
        "y": {"type": "integer", "minimum": 0},
    },
}
DATASOURCE = {
    "type": "object",
    "required": ["type", "uid"],
    "properties": {"type": {"const": "prometheus"}, "uid": {"type": "string", "minLength": 1}},
}
# The parts of Grafana's dashboard model (schemaVersion 39) this dashboard relies on.
SCHEMA = {
    "type": "object",
    "required": ["uid", "title", "schemaVersion", "panels", "templating", "time"],
    "properties": {
        "uid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
        "title": {"type": "string", "minLength": 1},
        "schemaVersion": {"type": "integer", "minimum": 36},
        "refresh": {"type": "string"},
        "time": {
            "type": "object",
            "required": ["from", "to"],
            "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
        },
        "templating": {
            "type": "object",
            "required": ["list"],
            "properties": {"list": {"type": "array", "items": {"type": "object"}}},
        },
        "panels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["id", "type", "title", "gridPos"],
                "properties": {
                    "id": {"type": "integer", "minimum": 1},
                    "type": {"enum": ["row", "timeseries", "stat", "gauge", "bargauge", "table"]},
                    "title": {"type": "string", "minLength": 1},
                    "gridPos": GRID_POS,
                },
                "if": {"properties": {"type": {"not": {"const": "row"}}}},
                "then": {
                    "required": ["datasource", "targets", "fieldConfig", "options"],
                    "properties": {
                        "datasource": DATASOURCE,
                        "targets": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["refId", "expr", "datasource"],
                                "properties": {
                                    "refId": {"type": "string", "pattern": "^[A-Z]$"},
                                    "expr": {"type": "string", "minLength": 1},
                                    "datasource": DATASOURCE,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_the_dashboard_json_has_the_shape_grafana_loads():
    board = dashboard()
    jsonschema.validate(board, SCHEMA)
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in data_panels(board):
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


def test_the_panels_tile_the_grid_without_overlapping():
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        for x in range(box["x"], box["x"] + box["w"]):
            for y in range(box["y"], box["y"] + box["h"]):
                assert (x, y) not in taken, f"{panel['title']} overlaps {taken[(x, y)]}"
                taken[(x, y)] = panel["title"]


def test_every_panel_queries_the_provisioned_prometheus():
    board = dashboard()
    [variable] = [v for v in board["templating"]["list"] if v["name"] == "datasource"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    [provisioned] = DATASOURCES["datasources"]
    assert variable["current"]["value"] == provisioned["uid"]
    for panel in data_panels(board):
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert source == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]


def test_the_dashboard_shows_what_the_issue_asks_for():
    exprs = " ".join(t["expr"] for p in data_panels(dashboard()) for t in p["targets"])
    for metric in (
        "descent_queue_depth",
        "descent_jobs",
        "descent_job_wait_seconds_bucket",
        "descent_job_run_seconds_bucket",
        "descent_epoch_duration_seconds_bucket",
        "descent_training_samples_total",
        "descent_prediction_duration_seconds_bucket",
        "descent_predictions_total",
        "descent_model_cache_total",
        "descent_http_requests_total",
        "descent_worker_heartbeat_age_seconds",
        "descent_gpu_memory_bytes",
    ):
        assert metric in exprs, metric
    assert "histogram_quantile(0.99, sum by (le, task) (rate(descent_prediction_duration" in exprs


def test_compose_runs_grafana_under_the_monitoring_profile_with_these_files():
    grafana = SERVICES["grafana"]
    assert grafana["profiles"] == ["monitoring"]
    mounted = {
        volume.split(":")[1]: (PROJECT_ROOT / volume.split(":")[0]).resolve()
        for volume in grafana["volumes"]
        if volume.startswith("./")
    }
    assert mounted["/etc/grafana/provisioning"] == PROVISIONING
    [provider] = PROVIDERS["providers"]
    assert mounted[provider["options"]["path"]] == DASHBOARD.parent
    [provisioned] = DATASOURCES["datasources"]
    assert provisioned["url"] == "http://prometheus:9090"
    assert "prometheus" in SERVICES
