"""ONNX Runtime sessions, cached per model file, safe to share between request threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import onnxruntime as ort


class OnnxModel:
    def __init__(self, path: Path) -> None:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> np.ndarray:
        # InferenceSession.run is thread-safe; no lock needed around it.
        return self._session.run(None, {self._input: batch})[0]


class SessionCache:
    """A small LRU of loaded models keyed by file path."""

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._models: OrderedDict[Path, OnnxModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> OnnxModel:
        with self._lock:
            model = self._models.get(path)
            if model is not None:
                self._models.move_to_end(path)
                return model
        model = OnnxModel(path)  # loading happens outside the lock
        with self._lock:
            self._models[path] = model
            self._models.move_to_end(path)
            while len(self._models) > self._max_size:
                self._models.popitem(last=False)
        return model
