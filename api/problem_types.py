"""Every problem ``code`` the API answers with: its status, its title, what it means, how to fix it.

A problem body's ``type`` is ``/problems/{code}``; that page (api/routes/problems.py) is made
from this table, and the body's ``title`` is the code's title here. A test checks that every
code raised in services, serving, training and the API is listed: add a row with a new code.
Codes are stable: a client may branch on them, so one is never renamed or reused.
"""

from __future__ import annotations

from typing import NamedTuple


class ProblemType(NamedTuple):
    status: int | None  # None: the status varies (the framework's own refusals)
    title: str
    meaning: str
    fix: str


def type_uri(code: str) -> str:
    """A problem's ``type``: a URI reference, resolved against the API's own address."""
    return f"/problems/{code}"


PROBLEM_TYPES: dict[str, ProblemType] = {
    # 401
    "unauthorized": ProblemType(
        401,
        "Unauthorized",
        "The server requires an API key (DESCENT_AUTH=required) and the request sent none, "
        "sent it in another form than `Authorization: Bearer <key>`, or sent one that is "
        "unknown or revoked.",
        "Create a key with `descent keys create --name NAME` on the server and send it as "
        "`Authorization: Bearer <key>` (the descent CLI sends DESCENT_API_KEY).",
    ),
    # 404
    "not_found": ProblemType(
        404,
        "Not found",
        "Nothing is served at this path, or the thing it names does not exist.",
        "Check the path against the routes listed at /docs.",
    ),
    "job_not_found": ProblemType(
        404,
        "Job not found",
        "No job of yours has this id.",
        "List jobs with GET /v1/jobs to find the right id.",
    ),
    "model_not_found": ProblemType(
        404,
        "Model not found",
        "No job of yours with this id exists, so there is no model: a model's id is the id of "
        "the job that trained it. Asked by name (NAME, NAME@ALIAS, NAME/versions/N): you have "
        "no model of that name, or it has no such alias or version.",
        "List models with GET /v1/models, or jobs with GET /v1/jobs; names with GET /v1/registry.",
    ),
    "version_not_found": ProblemType(
        404,
        "Version not found",
        "The model name has no version with this number.",
        "List the name's versions with GET /v1/registry/{name}/versions.",
    ),
    "alias_not_found": ProblemType(
        404,
        "Alias not found",
        "The model name has no alias with this name.",
        "See the name's aliases with GET /v1/registry/{name}, or set one with PUT.",
    ),
    "batch_not_found": ProblemType(
        404,
        "Batch not found",
        "No batch of yours has this id.",
        "Use the id POST /v1/batches returned, or list batches with GET /v1/batches.",
    ),
    "search_not_found": ProblemType(
        404,
        "Search not found",
        "No search of yours has this id.",
        "Use the id POST /v1/searches returned, or list searches with GET /v1/searches.",
    ),
    "trial_not_found": ProblemType(
        404,
        "Trial not found",
        "The search has no trial with this number.",
        "Trial numbers are listed under trials in GET /v1/searches/{id}.",
    ),
    "dataset_not_found": ProblemType(
        404,
        "Data set not found",
        "No uploaded data set of yours has this name or id.",
        "List data sets with GET /v1/datasets, or upload one with POST /v1/datasets.",
    ),
    "weights_not_found": ProblemType(
        404,
        "Weights not found",
        "The model has no stored weights: it was trained before weights were kept, or while "
        "the cap on their size was lower.",
        "Submit its job's spec again with POST /v1/jobs.",
    ),
    "evaluation_not_found": ProblemType(
        404,
        "Evaluation not found",
        "The job has no evaluation (confusion matrix, per-class scores, misclassified "
        "examples, residuals): it has not ended yet, it was cancelled, ran out of time or "
        "failed, or it had neither validation nor test rows to evaluate on.",
        "Wait until the job has succeeded (GET /v1/jobs/{id}); to be evaluated a job needs "
        "validation rows (dataset.validation) or a data set with a test split.",
    ),
    "artifact_not_found": ProblemType(
        404,
        "Stored file not found",
        "A file the answer needs is missing from the artifact store.",
        "Train the model again: submit its job's spec with POST /v1/jobs.",
    ),
    "api_key_not_found": ProblemType(
        404,
        "API key not found",
        "No API key has this id.",
        "List keys with `descent keys list`.",
    ),
    # 405
    "method_not_allowed": ProblemType(
        405,
        "Method not allowed",
        "The path exists but does not take this HTTP method; the `Allow` header lists the "
        "ones it takes.",
        "Use one of the methods in the `Allow` header.",
    ),
    "dataset_builtin": ProblemType(
        405,
        "Built-in data set",
        "Built-in data sets ship with Descent and cannot be deleted.",
        "Delete only data sets you uploaded (GET /v1/datasets lists them with builtin false).",
    ),
    # 409
    "conflict": ProblemType(
        409,
        "Conflict",
        "The request conflicts with the current state of what it names.",
        "Read the detail and fix; the state may change if you wait.",
    ),
    "job_finished": ProblemType(
        409,
        "Job already finished",
        "Only a queued or running job can be cancelled; this one has finished.",
        "Nothing to cancel. To train again, submit the spec with POST /v1/jobs.",
    ),
    "search_finished": ProblemType(
        409,
        "Search already finished",
        "Only a running search can be cancelled; this one has finished.",
        "Nothing to cancel. To search again, submit it with POST /v1/searches.",
    ),
    "trial_not_resumable": ProblemType(
        409,
        "Trial not resumable",
        "Only a trial the search stopped early, whose job has ended with its checkpoint kept, "
        "can be resumed.",
        "Resume a trial whose stopped_early is true once its job has ended.",
    ),
    "model_not_ready": ProblemType(
        409,
        "Model not ready",
        "The job that trains this model is still queued or running.",
        "Wait until GET /v1/jobs/{id} says succeeded (or follow its events), then ask again.",
    ),
    "model_not_trained": ProblemType(
        409,
        "No model trained",
        "The job ended (failed or cancelled) without producing a model; waiting will not help.",
        "Read the job's error, fix the spec and submit a new job with POST /v1/jobs.",
    ),
    "model_incompatible": ProblemType(
        409,
        "Model from a newer version",
        "The model was trained by a newer Descent that prepares its input in a way this "
        "server does not know.",
        "Run an API as recent as the worker that trained the model.",
    ),
    "weights_too_large": ProblemType(
        409,
        "Too many weights to list",
        "Weights are returned as JSON only for models up to DESCENT_MAX_WEIGHTS_PARAMS parameters.",
        "Download the model file (GET /v1/models/{id}/download) or train a smaller model.",
    ),
    "dataset_exists": ProblemType(
        409,
        "Data set name taken",
        "You already have a data set with this name.",
        "Choose another name, or delete the old data set first.",
    ),
    "dataset_in_use": ProblemType(
        409,
        "Data set in use",
        "Unfinished jobs train on this data set; errors[] names each one.",
        "Wait for the jobs to finish, or cancel them, then delete the data set again.",
    ),
    "dataset_ambiguous": ProblemType(
        409,
        "Data set name ambiguous",
        "Several owners have a data set with this name (only an admin key sees them all).",
        "Ask for the one you mean by its id.",
    ),
    "model_name_ambiguous": ProblemType(
        409,
        "Model name ambiguous",
        "Several owners have a model with this name (only an admin key sees them all).",
        "Ask with the key of the owner whose model you mean, or by the model's id.",
    ),
    "idempotency_key_in_use": ProblemType(
        409,
        "Idempotency key in use",
        "Another request with the same Idempotency-Key was being handled at the same time.",
        "Retry the request: the retry gets that request's answer.",
    ),
    # 410
    "gone": ProblemType(
        410,
        "Gone",
        "What the request names was there and is no longer.",
        "Create it again.",
    ),
    "model_gone": ProblemType(
        410,
        "Model file gone",
        "The model is registered but its file is missing from the artifact store or unreadable.",
        "Train it again: submit its job's spec with POST /v1/jobs.",
    ),
    # 413
    "payload_too_large": ProblemType(
        413,
        "Content too large",
        "The request holds more than this route accepts: bytes (DESCENT_MAX_BODY_BYTES, "
        "DESCENT_MAX_REQUEST_BYTES, DESCENT_MAX_UPLOAD_BYTES), instances "
        "(DESCENT_MAX_INSTANCES_PER_REQUEST) or decoded pixels (DESCENT_MAX_REQUEST_PIXELS).",
        "Split the work over several requests, or send smaller images; the detail names the cap.",
    ),
    # 429
    "too_many_requests": ProblemType(
        429,
        "Too many requests",
        "A per-client limit is reached, such as the number of event streams one key may hold "
        "open at once (DESCENT_MAX_STREAMS_PER_OWNER).",
        "Close streams you no longer read, or wait the seconds the Retry-After header says.",
    ),
    # 415
    "unsupported_media_type": ProblemType(
        415,
        "Unsupported media type",
        "The body's Content-Type is not one this route reads.",
        "Set the Content-Type header to one the detail names (e.g. application/json).",
    ),
    # 422
    "request_invalid": ProblemType(
        422,
        "Invalid request",
        "A path parameter, header or body field is missing or has a value it cannot take; "
        "errors[] names each one with what was found, what is allowed and a fix.",
        "Correct each field in errors[]; /docs shows every route's parameters and schema.",
    ),
    "query_invalid": ProblemType(
        422,
        "Invalid query",
        "A query parameter is unknown to this route (misspelt filters are refused, not "
        "ignored) or has a value it cannot take; errors[] names each one.",
        "Remove or correct the parameters in errors[]; `allowed` lists the ones the route takes.",
    ),
    "spec_invalid": ProblemType(
        422,
        "Invalid job spec",
        "The job spec (or a batch's specs) cannot train: a field has a wrong form or value, "
        "or the spec does not fit its data set or this server's caps. errors[] names each "
        "field (and, in a batch, the item) with what was found, what is allowed and a fix.",
        "Correct each field in errors[]; POST /v1/jobs/validate checks a spec without queueing it.",
    ),
    "search_space_invalid": ProblemType(
        422,
        "Invalid search space",
        "The search's space, sampler or metric cannot run: a range is malformed, a grid is "
        "given a continuous range, a choice or an end of a range gives an invalid spec, or "
        "the metric is not one the trials record. errors[] names the space's path.",
        "Correct the path named in errors[] (narrow the range, drop the choice) and submit again.",
    ),
    "batch_too_large": ProblemType(
        422,
        "Batch too large",
        "The batch would create more jobs than one batch may hold.",
        "Vary fewer fields or values, use fewer seeds, or split it into several batches.",
    ),
    "input_invalid": ProblemType(
        422,
        "Invalid instances",
        "The prediction input cannot be fed to the model: its shape, type, scale or image "
        "file is not what the model takes.",
        "Send what the detail says the model expects; GET /v1/models/{id} shows its input shape.",
    ),
    "dataset_invalid": ProblemType(
        422,
        "Invalid data set upload",
        "The uploaded rows or CSV file cannot make a data set; errors[] says which field.",
        "Correct the upload as the fix says.",
    ),
    "idempotency_key_reused": ProblemType(
        422,
        "Idempotency key reused",
        "The Idempotency-Key was already used on this route with a different body: a key "
        "names one request.",
        "Send the original body to get the original answer, or use a new key for a new request.",
    ),
    # 5xx
    "internal_error": ProblemType(
        500,
        "Internal error",
        "The server failed in a way it did not expect; the error has been logged.",
        "Retry later; if it persists, report it with the time of the request.",
    ),
    "unavailable": ProblemType(
        503,
        "Service unavailable",
        "Something the work needs (the database, the broker, a data file) cannot be reached.",
        "Retry later; an operator checks GET /healthz and the server's logs.",
    ),
    "not_ready": ProblemType(
        503,
        "Not ready",
        "GET /readyz: a part the server needs (the database, the broker, the artifact store) "
        "did not answer within its time; `errors` names each one and what it said.",
        "An operator checks that part and the server's settings for it; the server is ready "
        "again as soon as all of them answer.",
    ),
    "dataset_unavailable": ProblemType(
        503,
        "Data set unavailable",
        "A built-in data set's file is missing, altered or unreadable on the server.",
        "An operator fetches the data again (the detail says how); then retry.",
    ),
    # Any other refusal of the HTTP framework itself
    "http_error": ProblemType(
        None,
        "HTTP error",
        "The HTTP layer refused the request before any route saw it; the status says why.",
        "Read the status and detail; /docs shows what each route takes.",
    ),
}

# The framework's own refusals (no route ran, or none matched), by status.
FRAMEWORK_CODES = {
    400: "request_invalid",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "request_invalid",
    503: "unavailable",
}
