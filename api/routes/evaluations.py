"""Where a trained model is wrong: its evaluation (confusion matrix, per-class scores, the
most confident mistakes as PNGs; residuals for regression), read as its job is: the owner's."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import JobDep, SessionDep, StoreDep
from api.schemas.evaluations import Evaluation
from core.errors import NotFound
from services import trained_models

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def image_url(job_id: str, index: int) -> str:
    return f"/v1/jobs/{job_id}/evaluation/misclassified/{index}.png"


@router.get("/{job_id}/evaluation", response_model=Evaluation, summary="Get a job's evaluation")
def get_evaluation(job: JobDep, session: SessionDep) -> Evaluation:
    """The trained model on the validation (else test) rows: where it is wrong."""
    stored = trained_models.evaluation(session, job.id)
    wrong = [
        {
            **{k: v for k, v in entry.items() if k != "image_key"},
            "image": image_url(job.id, entry["index"]) if entry.get("image_key") else None,
        }
        for entry in stored.get("misclassified", [])
    ]
    return Evaluation.model_validate({**stored, "job_id": job.id, "misclassified": wrong})


@router.get(
    "/{job_id}/evaluation/misclassified/{index}.png",
    response_class=FileResponse,
    summary="Get a misclassified input",
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_misclassified_image(
    job: JobDep, index: int, session: SessionDep, store: StoreDep
) -> FileResponse:
    """One of the evaluation's misclassified inputs as the model saw it, a 0-255 PNG."""
    stored = trained_models.evaluation(session, job.id)
    entries: list[dict[str, Any]] = stored.get("misclassified", [])
    key = next((e.get("image_key") for e in entries if e.get("index") == index), None)
    if key is None:
        raise NotFound(
            f"job {job.id!r}'s evaluation has no misclassified image {index}",
            fix=f"its misclassified examples and their images are listed by "
            f"GET /v1/jobs/{job.id}/evaluation",
            code="not_found",
        )
    return FileResponse(store.local_path(key), media_type="image/png")
