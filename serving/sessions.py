"""Loaded models: ONNX Runtime sessions with what prediction needs, in an LRU keyed by model id.

Safe under concurrent requests: ``InferenceSession.run`` is thread-safe, the cache's map is
guarded by a lock, and a model asked for by many requests at once is loaded only once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from serving.cards import ModelCard
from serving.errors import ModelFileGone


class OnnxModel:
    def __init__(self, path: Path, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        # Idle pool threads would otherwise spin for a while after each run, taking CPU from
        # the request handling that shares the same cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> np.ndarray:
        # InferenceSession.run is thread-safe; no lock needed around it.
        return self._session.run(None, {self._input: batch})[0]

    @property
    def inputs(self) -> list[TensorSpec]:
        """The graph's inputs as the protocol routes describe them (TF Serving, v2)."""
        return [TensorSpec.of(arg) for arg in self._session.get_inputs()]

    @property
    def outputs(self) -> list[TensorSpec]:
        return [TensorSpec.of(arg) for arg in self._session.get_outputs()]


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of an ONNX graph: its name, its shape with None for an axis of
    any length (the batch), and its ONNX Runtime type, e.g. ``"tensor(float)"``."""

    name: str
    shape: tuple[int | None, ...]
    type: str

    @classmethod
    def of(cls, arg: ort.NodeArg) -> TensorSpec:
        shape = tuple(n if isinstance(n, int) else None for n in arg.shape)
        return cls(arg.name, shape, arg.type)


@dataclass(frozen=True)
class ServedModel:
    card: ModelCard
    onnx: OnnxModel

    def file_present(self) -> bool:
        """A model whose file has been removed must stop answering, even from the cache."""
        return self.card.onnx_path.is_file()


def gone(
    model_id: str, reason: str = "is missing from the artifact store", file: str = "ONNX"
) -> ModelFileGone:
    return ModelFileGone(
        f"model {model_id!r} is registered but its {file} file {reason}",
        fix="retrain it: submit its job's spec again with {submit_job}",
    )


class SessionCache:
    """At most ``max_size`` loaded models, least recently used evicted first.

    ``on_event``, if given, is called with ``"hit"`` (a lookup found the model loaded),
    ``"miss"`` (it had to be loaded) or ``"eviction"`` (a model left the cache): the API counts
    them (api/metrics.py) without this layer knowing of metrics."""

    def __init__(
        self, max_size: int, threads: int = 1, on_event: Callable[[str], None] | None = None
    ) -> None:
        self._max_size = max_size
        self._threads = threads
        self._on_event = on_event or (lambda _event: None)
        self._models: OrderedDict[str, ServedModel] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._models)

    def get(self, model_id: str) -> ServedModel | None:
        """The loaded model, or None; cheap enough for every request."""
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
        if model is not None:
            self._on_event("hit")
        return model

    def evict(self, model_id: str) -> None:
        with self._lock:
            evicted = self._models.pop(model_id, None)
        if evicted is not None:
            self._on_event("eviction")

    def load(self, model_id: str, describe: Callable[[], ModelCard]) -> ServedModel:
        """The model, loading it (``describe`` gives its card) unless another thread has."""
        with self._lock:
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:  # one load per model; other models load in parallel
            try:
                model = self.get(model_id)  # loaded by another thread while this one waited
                if model is None:
                    self._on_event("miss")
                    model = self._add(model_id, describe())
                return model
            finally:
                with self._lock:
                    self._loading.pop(model_id, None)

    def _add(self, model_id: str, card: ModelCard) -> ServedModel:
        try:
            model = ServedModel(card, OnnxModel(card.onnx_path, self._threads))
        except Exception as exc:  # onnxruntime raises its own types for unreadable files
            raise gone(model_id, f"cannot be loaded ({type(exc).__name__})") from exc
        with self._lock:
            self._models[model_id] = model
            evicted = max(len(self._models) - self._max_size, 0)
            for _ in range(evicted):
                self._models.popitem(last=False)
        for _ in range(evicted):
            self._on_event("eviction")
        return model
