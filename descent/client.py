"""A typed HTTP client for Descent's API (httpx). It imports no TensorFlow, numpy or Pillow.

    from descent.client import Client

    with Client("http://127.0.0.1:8000") as api:
        job = api.submit_job({"dataset": {"name": "mnist"}, "model": {"preset": "dense"}})
        print(api.history(job.id).epochs)

Responses are the pydantic models of :mod:`descent.schemas` (importable from here too), which
keep only the fields the client knows; ``api_object(answer)`` is the server's own JSON object.
Every failed request raises ``ApiError`` with the server's problem details (what is wrong, and
how to fix it).
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from descent import sse
from descent.schemas import (
    Batch,
    BatchJob,
    BatchSummary,
    Curve,
    Curves,
    Dataset,
    Epoch,
    History,
    Job,
    JobRef,
    LayerSummary,
    Model,
    ModelAlias,
    ModelSummary,
    ModelVersion,
    Page,
    PredictAnswer,
    Prediction,
    SpecCheck,
    SpecWarning,
    Standing,
    Transition,
    api_object,
)

__all__ = [
    "DEFAULT_URL", "ApiError", "Batch", "BatchJob", "BatchSummary", "Client", "Curve", "Curves",
    "Dataset", "Epoch", "EventStream", "History", "Job", "JobRef", "LayerSummary", "Model",
    "ModelAlias", "ModelSummary", "ModelVersion", "Page", "PredictAnswer", "Prediction",
    "SpecCheck", "SpecWarning", "Standing", "Transition", "api_object",
]  # fmt: skip

DEFAULT_URL = "http://127.0.0.1:8000"
# Image files go in requests of at most this many files and bytes, well inside the server's
# default limits (DESCENT_MAX_INSTANCES_PER_REQUEST, DESCENT_MAX_REQUEST_BYTES).
FILES_PER_REQUEST = 100
BYTES_PER_REQUEST = 16 * 2**20
KEEPALIVE_SECONDS = 2.0  # idle connections kept: below the server's keep-alive (5 s by default)


class ApiError(Exception):
    """A request failed: the server's problem details, or why the server could not be reached."""

    def __init__(
        self,
        status: int | None,
        title: str,
        detail: str,
        *,
        fix: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{title}: {detail}")
        self.status, self.title, self.detail = status, title, detail
        self.fix, self.errors = fix, errors or []

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        detail = body.get("detail") or response.text.strip() or response.reason_phrase
        return cls(
            response.status_code,
            str(body.get("title") or response.reason_phrase),
            str(detail),
            fix=body.get("fix"),
            errors=body.get("errors") if isinstance(body.get("errors"), list) else None,
        )


class Client:
    """One server. ``api_key`` is sent as a bearer token where one is given."""

    def __init__(
        self, url: str = DEFAULT_URL, *, api_key: str | None = None, timeout: float = 30.0
    ) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        # An idle connection is dropped before the server's keep-alive (5 s by default) closes
        # it: a request sent on a connection the server is closing would get no answer.
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # jobs
    def submit_job(self, spec: dict[str, Any]) -> Job:
        return Job.model_validate(self._request("POST", "/v1/jobs", json=spec))

    def get_job(self, job_id: str) -> Job:
        return Job.model_validate(self._request("GET", f"/v1/jobs/{job_id}"))

    def validate_spec(self, spec: dict[str, Any]) -> SpecCheck:
        """Check a spec without queueing it: its model's summary and the server's warnings."""
        return SpecCheck.model_validate(self._request("POST", "/v1/jobs/validate", json=spec))

    def list_jobs(
        self, *, limit: int = 20, offset: int = 0, every: bool = False, **filters: Any
    ) -> Page[Job]:
        """A page of jobs, newest first; ``filters`` are the server's (status, name, dataset,
        batch_id, created_after, created_before, sort; None: not given). ``every``: every page
        after this one too, in one page."""
        return self._page(Page[Job], "/v1/jobs", limit, offset, every, filters)

    def history(self, job_id: str) -> History:
        return History.model_validate(self._request("GET", f"/v1/jobs/{job_id}/history"))

    def job_events(self, job_id: str, *, last_event_id: int | None = None) -> EventStream:
        """The job's events (``status``, ``epoch``, ``progress``) after ``last_event_id``, as
        they happen, read while the result is iterated. The stream ends after the job's final
        status, or when the server closes it (shutting down); it is empty, with ``done`` set,
        when the job has ended and every event was sent already (a 204). A dropped connection
        raises an ``ApiError`` with no status: resume with the last event's id."""
        headers = {"accept": "text/event-stream"}
        if last_event_id is not None:
            headers["last-event-id"] = str(last_event_id)
        return EventStream(self, f"/v1/jobs/{job_id}/events", headers)

    def cancel_job(self, job_id: str) -> Job:
        return Job.model_validate(self._request("POST", f"/v1/jobs/{job_id}/cancel"))

    # batches
    def list_batches(
        self, *, limit: int = 20, offset: int = 0, every: bool = False
    ) -> Page[BatchSummary]:
        return self._page(Page[BatchSummary], "/v1/batches", limit, offset, every, {})

    def submit_batch(self, body: dict[str, Any]) -> Batch:
        return Batch.model_validate(self._request("POST", "/v1/batches", json=body))

    def get_batch(self, batch_id: str, *, metric: str | None = None) -> Batch:
        params = {"metric": metric} if metric else None
        return Batch.model_validate(self._request("GET", f"/v1/batches/{batch_id}", params=params))

    def cancel_batch(self, batch_id: str) -> Batch:
        return Batch.model_validate(self._request("POST", f"/v1/batches/{batch_id}/cancel"))

    # learning-rate range tests (plain JSON objects: LrFind in the API's schema)
    def lr_find(
        self,
        spec: dict[str, Any],
        *,
        min_learning_rate: float | None = None,
        max_learning_rate: float | None = None,
        steps: int | None = None,
        keep_model: bool = False,
    ) -> dict[str, Any]:
        """Queue a learning-rate range test of ``spec``'s model (the server's defaults for the
        options left None); ``get_lr_find`` its id until its status is finished for the loss
        curve and the suggested rate."""
        options = {
            "min_learning_rate": min_learning_rate,
            "max_learning_rate": max_learning_rate,
            "steps": steps,
        }
        body = {"spec": spec, "keep_model": keep_model}
        body |= {key: value for key, value in options.items() if value is not None}
        return self._request("POST", "/v1/lr-find", json=body)  # type: ignore[no-any-return]

    def get_lr_find(self, lr_find_id: str) -> dict[str, Any]:
        path = f"/v1/lr-find/{quote(lr_find_id, safe='')}"
        return self._request("GET", path)  # type: ignore[no-any-return]

    # searches (plain JSON objects: SearchPublic in the API's schema)
    def submit_search(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/searches", json=body)  # type: ignore[no-any-return]

    def get_search(self, search_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/searches/{search_id}")  # type: ignore[no-any-return]

    def list_searches(self, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        params = {"limit": limit, "offset": offset}
        return self._request("GET", "/v1/searches", params=params)  # type: ignore[no-any-return]

    def cancel_search(self, search_id: str) -> dict[str, Any]:
        return self._request("POST", f"/v1/searches/{search_id}/cancel")  # type: ignore[no-any-return]

    # models
    def list_models(
        self, *, limit: int = 20, offset: int = 0, every: bool = False, **filters: Any
    ) -> Page[Model]:
        """A page of trained models, newest first; ``filters``: dataset, task."""
        return self._page(Page[Model], "/v1/models", limit, offset, every, filters)

    def download_model(
        self, model_id: str, path: str | os.PathLike[str], *, file_format: str = "keras"
    ) -> int:
        """Write the model's .keras or .onnx file to ``path``; the number of bytes written.
        The file appears whole or not at all (it is written beside, then renamed)."""
        target = Path(path)
        partial = target.with_name(f".{target.name}.part")
        url = f"{self._model_path(model_id)}/download"
        try:
            with self._http.stream("GET", url, params={"format": file_format}) as response:
                if response.is_error:
                    response.read()
                    raise ApiError.from_response(response)
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TransportError as exc:
            partial.unlink(missing_ok=True)
            raise self._unreachable("GET", url, exc) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
        return target.stat().st_size

    def get_model(self, model_id: str) -> Model:
        """A model by id, or by reference: NAME, NAME@ALIAS or NAME/versions/N."""
        return Model.model_validate(self._request("GET", self._model_path(model_id)))

    def predict(self, model_id: str, instances: list[Any]) -> list[Prediction]:
        """Pixel rows (28×28 nested or 784 flat, 0-255) or ``{"b64": ...}`` images, as JSON."""
        body = self._request(
            "POST", f"{self._model_path(model_id)}/predict", json={"instances": instances}
        )
        return [Prediction.model_validate(p) for p in body["predictions"]]

    def _model_path(self, ref: str) -> str:
        """The path of the model ``ref`` names. The server takes an id, NAME or NAME@ALIAS in
        the path; NAME/versions/N is looked up here first (a slash would split the path)."""
        name, versions, number = ref.partition("/versions/")
        if versions and number.isdigit():
            ref = self.get_model_version(name, int(number)).model_id
        return f"/v1/models/{quote(ref, safe='@')}"

    # the model registry
    def register_model_version(self, name: str, model_id: str) -> ModelVersion:
        """Register the trained model as the name's next version."""
        body = self._request(
            "POST", f"{_registry_path(name)}/versions", json={"model_id": model_id}
        )
        return ModelVersion.model_validate(body)

    def list_model_versions(
        self, name: str, *, limit: int = 20, offset: int = 0, every: bool = False
    ) -> Page[ModelVersion]:
        """A page of the name's versions, newest first."""
        path = f"{_registry_path(name)}/versions"
        return self._page(Page[ModelVersion], path, limit, offset, every, {})

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        path = f"{_registry_path(name)}/versions/{version}"
        return ModelVersion.model_validate(self._request("GET", path))

    def set_alias(self, name: str, alias: str, version: int) -> ModelAlias:
        """Point the name's alias at the version (created, or moved in one step)."""
        path = f"{_registry_path(name)}/aliases/{quote(alias, safe='')}"
        return ModelAlias.model_validate(self._request("PUT", path, json={"version": version}))

    def predict_files(self, model_id: str, files: Sequence[tuple[str, bytes]]) -> list[Prediction]:
        """Image files, ``(name, bytes)``, uploaded as they are: the server converts them (the
        same conversion for every client), in as many requests as their number and size take.
        A request the server finds too large (a 413: too many pixels in all, say, which the
        file sizes do not tell) is sent again in halves, and later requests hold no more files
        than the half that passed. A file the server refuses is named in the ``ApiError``."""
        return self.predict_files_answer(model_id, files).predictions

    def predict_files_answer(
        self, model_id: str, files: Sequence[tuple[str, bytes]]
    ) -> PredictAnswer:
        """As ``predict_files``, the answer whole: the first request's answer (its model_id,
        the scale it read), with every request's predictions, in file order."""
        answers: list[dict[str, Any]] = []
        first: dict[str, Any] | None = None
        pending = deque(_chunks(files))
        most = FILES_PER_REQUEST
        while pending:
            chunk = pending.popleft()
            if len(chunk) > most:
                chunk, rest = chunk[:most], chunk[most:]
                pending.appendleft(rest)
            try:
                # Later requests name the model the first one answered with: a name's alias
                # moved meanwhile does not split the files between two versions.
                body = self._predict_chunk(first["model_id"] if first else model_id, chunk)
            except ApiError as error:
                if error.status != 413 or len(chunk) == 1:
                    raise
                most = (len(chunk) + 1) // 2
                pending.extendleft([chunk[most:], chunk[:most]])  # in order: first half first
                continue
            first = first or body
            answers += body["predictions"]
        whole = {**(first or {"model_id": model_id}), "predictions": answers}
        return PredictAnswer.model_validate(whole)

    def _predict_chunk(self, model_id: str, chunk: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        parts = [("file", (name, data, _media_type(name))) for name, data in chunk]
        try:
            body = self._request("POST", f"{self._model_path(model_id)}/predict", files=parts)
        except ApiError as error:
            # The server numbers the files of one request ("file 2 of 3: ..."): name it. A
            # lone file that is too large is named too (the server's 413 says "the request").
            found = re.match(r"file (\d+) of \d+: ", error.detail)
            if found and 0 < int(found[1]) <= len(chunk):
                name, detail = chunk[int(found[1]) - 1][0], error.detail[found.end() :]
            elif error.status == 413 and len(chunk) == 1:
                name, detail = chunk[0][0], error.detail
            else:
                raise
            raise ApiError(
                error.status, error.title, f"{name}: {detail}", fix=error.fix, errors=error.errors
            ) from None
        return body

    # data sets
    def list_datasets(
        self, *, limit: int = 20, offset: int = 0, every: bool = False
    ) -> Page[Dataset]:
        """The built-in data sets, then the uploaded ones this key owns. (A server that
        answers a bare array, as before paging, gives them all as one page.)"""
        return self._page(Page[Dataset], "/v1/datasets", limit, offset, every, {})

    def get_dataset(self, name_or_id: str) -> Dataset:
        return Dataset.model_validate(self._request("GET", _dataset_path(name_or_id)))

    def upload_dataset(
        self,
        name: str,
        task: str,
        *,
        csv: str | os.PathLike[str] | bytes | None = None,
        target: str | None = None,
        x: list[Any] | None = None,
        y: list[Any] | None = None,
        class_names: list[str] | None = None,
    ) -> Dataset:
        """Upload a data set: a CSV file with a header row (``csv``, its path or its bytes;
        ``target`` names the label column, default the last), or the rows ``x`` and their
        labels ``y`` as JSON (``class_names`` name the class indices of a classification's y).
        ``task`` is ``"classification"`` or ``"regression"``."""
        if (csv is None) == (x is None and y is None):
            raise ValueError("upload_dataset takes either csv or x and y, not both or neither")
        if csv is None:
            if x is None or y is None:
                raise ValueError("upload_dataset needs both x and y")
            if target is not None:
                raise ValueError("target names a CSV column; with x and y, y holds the labels")
            body: dict[str, Any] = {"name": name, "task": task, "x": x, "y": y}
            if class_names is not None:
                body["class_names"] = class_names
            found = self._request("POST", "/v1/datasets", json=body)
        else:
            if isinstance(csv, bytes):
                filename, content = f"{name}.csv", csv
            else:
                filename, content = Path(csv).name, Path(csv).read_bytes()
            form = {"name": name, "task": task} | ({"target": target} if target else {})
            file = {"file": (filename, content, "text/csv")}
            found = self._request("POST", "/v1/datasets", data=form, files=file)
        return Dataset.model_validate(found)

    def delete_dataset(self, name_or_id: str) -> None:
        """Delete an uploaded data set; a 409 ``ApiError`` names the unfinished jobs using it
        in ``errors`` (``job_id``, ``status``)."""
        self._request("DELETE", _dataset_path(name_or_id))

    def _page(
        self,
        kind: type[Page[Any]],
        path: str,
        limit: int,
        offset: int,
        every: bool,
        filters: dict[str, Any],
    ) -> Any:
        params = {"limit": limit, "offset": offset}
        params |= {key: value for key, value in filters.items() if value not in (None, [], ())}
        found = _as_page(self._request("GET", path, params=params))
        items = list(found["items"])
        while every and found.get("next"):
            found = _as_page(self._request("GET", found["next"]))
            items += found["items"]
        if every:
            found = {**found, "items": items, "limit": len(items), "offset": offset, "next": None}
        return kind.model_validate(found)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(method, path, exc) from exc
        if response.is_error:
            raise ApiError.from_response(response)
        return response.json() if response.content else None

    def _unreachable(self, method: str, path: str, exc: httpx.TransportError) -> ApiError:
        return ApiError(
            None,
            "Cannot reach the server",
            f"{method} {self.url}{path} failed: {exc or type(exc).__name__}",
            fix="start it with `descent serve`, or point --url (or DESCENT_URL) at it",
        )


class EventStream:
    """One connection to a job's event stream, made when it is iterated."""

    def __init__(self, client: Client, path: str, headers: dict[str, str]) -> None:
        self._client, self._path, self._headers = client, path, headers
        # Only the server's 204 says no event will follow: a stream that just stops may have
        # been cut short by an API process shutting down, with events still to come.
        self.done = False

    def __iter__(self) -> Iterator[sse.Event]:
        try:
            with self._client._http.stream("GET", self._path, headers=self._headers) as response:
                if response.status_code == 204:
                    self.done = True
                    return
                if response.is_error:
                    response.read()
                    raise ApiError.from_response(response)
                yield from sse.parse(response.iter_lines())
        except httpx.TransportError as exc:
            raise self._client._unreachable("GET", self._path, exc) from exc


def _as_page(body: Any) -> dict[str, Any]:
    """A list answer as a page: a bare array (an older server's data sets) is one whole page."""
    if isinstance(body, list):
        return {"items": body, "total": len(body), "limit": len(body), "offset": 0, "next": None}
    return body


def _registry_path(name: str) -> str:
    return f"/v1/registry/{quote(name, safe='')}"


def _dataset_path(name_or_id: str) -> str:
    # A name is the user's own text: quoted, it stays one path segment whatever it holds.
    return f"/v1/datasets/{quote(name_or_id, safe='')}"


def _chunks(files: Sequence[tuple[str, bytes]]) -> list[Sequence[tuple[str, bytes]]]:
    """The files, in order, grouped into requests of at most FILES/BYTES_PER_REQUEST (a file
    larger than that goes alone, for the server to accept or refuse)."""
    chunks, start, size = [], 0, 0
    for index, (_, data) in enumerate(files):
        full = index - start >= FILES_PER_REQUEST or size + len(data) > BYTES_PER_REQUEST
        if index > start and full:
            chunks.append(files[start:index])
            start, size = index, 0
        size += len(data)
    if start < len(files):
        chunks.append(files[start:])
    return chunks


def _media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
