"""A typed HTTP client for Descent's API (httpx). It imports no TensorFlow, numpy or Pillow.

    from descent.client import Client

    with Client("http://127.0.0.1:8000") as api:
        job = api.submit_job({"dataset": {"name": "mnist"}, "model": {"preset": "dense"}})
        print(api.history(job.id).epochs)

Responses are pydantic models that keep only the fields the client knows and ignore the rest,
so a newer server does not break an older client. Every failed request raises ``ApiError``
with the server's problem details (what is wrong, and how to fix it).
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from core.statuses import FINISHED
from descent import sse

DEFAULT_URL = "http://127.0.0.1:8000"
# Image files go in requests of at most this many files and bytes, well inside the server's
# default limits (DESCENT_MAX_INSTANCES_PER_REQUEST, DESCENT_MAX_REQUEST_BYTES).
FILES_PER_REQUEST = 100
BYTES_PER_REQUEST = 16 * 2**20


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Transition(_Response):
    status: str
    at: datetime


class Job(_Response):
    id: str
    name: str | None = None
    status: str
    spec: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    final_metrics: dict[str, float] | None = None
    model_id: str | None = None
    batch_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    transitions: list[Transition] = Field(default_factory=list)  # every status it has had

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def epochs(self) -> int:
        return int(self.spec.get("epochs", 0))


class JobList(_Response):
    items: list[Job]
    total: int


class Epoch(_Response):
    epoch: int
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    learning_rate: float | None = None
    seconds: float = 0.0
    metrics: dict[str, float | None] = Field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        known = getattr(self, metric, None) if metric in type(self).model_fields else None
        return known if known is not None else self.metrics.get(metric)


class History(_Response):
    job_id: str
    status: str
    epochs: list[Epoch]


class BatchJob(_Response):
    id: str
    name: str | None = None
    index: int
    status: str
    varied: dict[str, Any] = Field(default_factory=dict)
    epochs: int = 0
    epochs_done: int = -1
    final_metrics: dict[str, float] | None = None
    error: str | None = None


class Standing(_Response):
    rank: int
    job_id: str
    name: str | None = None
    status: str
    varied: dict[str, Any] = Field(default_factory=dict)
    value: float
    epoch: int


class Curve(_Response):
    job_id: str
    name: str | None = None
    values: list[float | None]


class Curves(_Response):
    metric: str
    epochs: list[int]
    series: list[Curve]


class Batch(_Response):
    id: str
    name: str | None = None
    status: str
    size: int
    max_parallel: int
    counts: dict[str, int]
    metric: str
    goal: str
    leaderboard: list[Standing]
    jobs: list[BatchJob]
    curves: Curves

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class Model(_Response):
    id: str
    dataset: str
    class_names: list[str]
    input_shape: list[int]


class Dataset(_Response):
    name: str
    title: str = ""
    input_shape: list[int] = Field(default_factory=list)
    num_classes: int = 0
    class_names: list[str] = Field(default_factory=list)
    train_size: int = 0
    test_size: int = 0
    source: str = ""
    id: str | None = None
    builtin: bool = True
    task: str = "classification"
    target_size: int = 0
    feature_names: list[str] | None = None
    created_at: datetime | None = None

    @property
    def rows(self) -> int:
        return self.train_size + self.test_size


class Prediction(_Response):
    label: str
    class_index: int
    probabilities: list[float]


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
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

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

    def list_jobs(self, *, limit: int = 20, offset: int = 0) -> JobList:
        params = {"limit": limit, "offset": offset}
        return JobList.model_validate(self._request("GET", "/v1/jobs", params=params))

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
    def submit_batch(self, body: dict[str, Any]) -> Batch:
        return Batch.model_validate(self._request("POST", "/v1/batches", json=body))

    def get_batch(self, batch_id: str, *, metric: str | None = None) -> Batch:
        params = {"metric": metric} if metric else None
        return Batch.model_validate(self._request("GET", f"/v1/batches/{batch_id}", params=params))

    def cancel_batch(self, batch_id: str) -> Batch:
        return Batch.model_validate(self._request("POST", f"/v1/batches/{batch_id}/cancel"))

    # models
    def get_model(self, model_id: str) -> Model:
        return Model.model_validate(self._request("GET", f"/v1/models/{model_id}"))

    def predict(self, model_id: str, instances: list[Any]) -> list[Prediction]:
        """Pixel rows (28×28 nested or 784 flat, 0-255) or ``{"b64": ...}`` images, as JSON."""
        body = self._request(
            "POST", f"/v1/models/{model_id}/predict", json={"instances": instances}
        )
        return [Prediction.model_validate(p) for p in body["predictions"]]

    def predict_files(self, model_id: str, files: Sequence[tuple[str, bytes]]) -> list[Prediction]:
        """Image files, ``(name, bytes)``, uploaded as they are: the server converts them (the
        same conversion for every client), in as many requests as their number and size take.
        A request the server finds too large (a 413: too many pixels in all, say, which the
        file sizes do not tell) is sent again in halves, and later requests hold no more files
        than the half that passed. A file the server refuses is named in the ``ApiError``."""
        answers: list[Prediction] = []
        pending = deque(_chunks(files))
        most = FILES_PER_REQUEST
        while pending:
            chunk = pending.popleft()
            if len(chunk) > most:
                chunk, rest = chunk[:most], chunk[most:]
                pending.appendleft(rest)
            try:
                answers += self._predict_chunk(model_id, chunk)
            except ApiError as error:
                if error.status != 413 or len(chunk) == 1:
                    raise
                most = (len(chunk) + 1) // 2
                pending.extendleft([chunk[most:], chunk[:most]])  # in order: first half first
        return answers

    def _predict_chunk(self, model_id: str, chunk: Sequence[tuple[str, bytes]]) -> list[Prediction]:
        parts = [("file", (name, data, _media_type(name))) for name, data in chunk]
        try:
            body = self._request("POST", f"/v1/models/{model_id}/predict", files=parts)
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
        return [Prediction.model_validate(p) for p in body["predictions"]]

    # data sets
    def list_datasets(self) -> list[Dataset]:
        """The built-in data sets, then the uploaded ones this key owns."""
        return [Dataset.model_validate(d) for d in self._request("GET", "/v1/datasets")]

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
