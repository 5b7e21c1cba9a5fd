"""Where trained model files live. Keys are relative paths such as ``<model id>/model.onnx``.

Two backends behind one interface: a local folder (the embedded mode) and S3-compatible object
storage that every host of a deployment shares. Keys are written once and never change, so a
host that reads from S3 keeps a local copy and serves it from disk afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from descent.settings import Settings
from services.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ArtifactStore(Protocol):
    def put_file(self, key: str, source: Path) -> str:
        """Store ``source`` under ``key``; readers never see a partial file."""
        ...

    def local_path(self, key: str) -> Path:
        """A path on this machine holding the file; NotFound if the store no longer has it."""
        ...


def missing(key: str) -> NotFound:
    return NotFound(
        f"the model file {key!r} is missing from the artifact store",
        fix="retrain the model: submit its job's spec again with POST /v1/jobs",
    )


def contained(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"artifact key {key!r} escapes the store")
    return path


def atomic_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as partial,
        source.open("rb") as src,
    ):
        shutil.copyfileobj(src, partial)
    Path(partial.name).replace(target)


class LocalArtifactStore:
    """A folder on this machine."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put_file(self, key: str, source: Path) -> str:
        atomic_copy(source, contained(self.root, key))
        return key

    def local_path(self, key: str) -> Path:
        path = contained(self.root, key)
        if not path.is_file():
            raise missing(key)
        return path


class S3ArtifactStore:
    """An S3-compatible bucket (AWS S3, MinIO, ...), with a local read-through copy."""

    def __init__(self, client: S3Client, bucket: str, prefix: str, cache_dir: Path) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._cache = cache_dir

    def _object(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def put_file(self, key: str, source: Path) -> str:
        self._client.upload_file(str(source), self._bucket, self._object(key))
        return key

    def local_path(self, key: str) -> Path:
        path = contained(self._cache, key)
        if path.is_file():
            return path
        from botocore.exceptions import ClientError

        with tempfile.TemporaryDirectory() as folder:
            download = Path(folder) / "object"
            try:
                self._client.download_file(self._bucket, self._object(key), str(download))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    raise missing(key) from None
                raise
            atomic_copy(download, path)
        return path


def get_store(settings: Settings) -> ArtifactStore:
    if settings.artifact_store == "local":
        return LocalArtifactStore(settings.resolved_artifacts_dir)
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
    )
    return S3ArtifactStore(
        client, settings.s3_bucket, settings.s3_prefix, settings.resolved_home / "artifact-cache"
    )
