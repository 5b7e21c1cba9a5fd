"""``GET /metrics``: the API's Prometheus metrics (api/metrics.py), in the format the scraper
asks for (Prometheus text, or OpenMetrics).

No key is asked, like ``/healthz``, so that a plain Prometheus scrape works: keep the route off
the public side of the proxy. Not in the OpenAPI document, like ``/docs``; absent (404) with
``DESCENT_METRICS=false``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import choose_encoder

from api.metrics import ApiMetrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    """The API's metrics for Prometheus; the database and broker gauges are read now."""
    # A plain def: FastAPI runs it in a thread, so the database and broker waits of the
    # scrape-time gauges never hold up the event loop.
    served: ApiMetrics = request.app.state.metrics
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(served.exposed), headers={"Content-Type": media_type})
