"""Where trained model files live. Keys are relative paths such as ``<model id>/model.onnx``."""

from __future__ import annotations

import shutil
from pathlib import Path

from services.errors import NotFound


class LocalArtifactStore:
    """A folder on this machine: the embedded mode's store."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put_file(self, key: str, source: Path) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)  # readers never see a half-written file
        return key

    def local_path(self, key: str) -> Path:
        """A path prediction can open; NotFound if the file has gone."""
        path = self._path(key)
        if not path.is_file():
            raise NotFound(
                f"the model file {key!r} is missing from the artifact store",
                fix="retrain the model: submit its job's spec again with POST /v1/jobs",
            )
        return path

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"artifact key {key!r} escapes the store")
        return path
