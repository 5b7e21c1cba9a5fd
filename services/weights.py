"""A trained model's weights as JSON: stored by the worker for small models, read here.

The file lies beside the model's registered ``.keras`` file: ``<job>/a<attempt>/weights.json``
for models stored under their attempt's folder, ``<job>/weights.json`` for older ones.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from sqlalchemy.orm import Session

from core.errors import Conflict, NotFound
from models import Job, TrainedModel
from services.artifacts import ArtifactStore


def weights_key(keras_key: str) -> str:
    """The weights' key for the model whose ``.keras`` file is stored under ``keras_key``."""
    return posixpath.join(posixpath.dirname(keras_key), "weights.json")


def read(session: Session, store: ArtifactStore, model: TrainedModel, cap: int) -> dict[str, Any]:
    """The weights by layer; Conflict above the size cap, NotFound if none were stored."""
    job = session.get(Job, model.id)
    total = (job.summary or {}).get("total_params") if job is not None else None
    if total is not None and total > cap:
        raise Conflict(
            f"model {model.id!r} has {total:,} parameters; weights are returned as JSON for "
            f"models of up to {cap:,}",
            fix="train a smaller model to read its weights here (the operator sets the cap "
            "with DESCENT_MAX_WEIGHTS_PARAMS, on the API and the workers)",
            code="weights_too_large",
        )
    try:
        path = store.local_path(weights_key(model.keras_key))
    except NotFound:
        raise NotFound(
            f"model {model.id!r} has no stored weights: it was trained before weights were "
            "kept, or while the cap was lower",
            fix="submit its job's spec again with {submit_job}",
            code="weights_not_found",
        ) from None
    return {"model_id": model.id, **json.loads(path.read_text())}
