"""Where trained model files live. Keys are relative paths such as ``<model id>/model.onnx``.

Two backends behind one interface: a local folder (the embedded mode) and S3-compatible object
storage that every host of a deployment shares. Keys are written once and never change, so a
host that reads from S3 keeps a local copy and serves it from disk afterwards. A key is only
ever deleted once nothing will read it again (a deleted data set, a finished job's checkpoints),
so another host's stale local copy is never asked for.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.errors import NotFound
from core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ArtifactStore(Protocol):
    def put_file(self, key: str, source: Path) -> str:
        """Store ``source`` under ``key``; readers never see a partial file."""
        ...

    def local_path(self, key: str) -> Path:
        """A path on this machine holding the file; NotFound if the store no longer has it."""
        ...

    def delete(self, key: str) -> int:
        """Remove the file under ``key`` and every file under ``key/`` (a folder of keys); how
        many files went. What is not there is not an error: deleting twice removes 0."""
        ...

    def check(self) -> None:
        """Raise, saying why, if the store cannot be reached or written to now (readiness)."""
        ...


def missing(key: str) -> NotFound:
    return NotFound(
        f"the model file {key!r} is missing from the artifact store",
        fix="retrain the model: submit its job's spec again with {submit_job}",
        code="artifact_not_found",
    )


def contained(root: Path, key: str) -> Path:
    path = (root / key).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValueError(f"artifact key {key!r} escapes the store")
    return path


def folder_key(key: str) -> str:
    """``key`` normalised, without a trailing slash; ValueError for a key that names the whole
    store or a place outside it (a delete must never reach either)."""
    normal = posixpath.normpath(key.rstrip("/")) if key.rstrip("/") else "."
    if normal == ".":
        raise ValueError(f"refusing to delete the whole artifact store ({key!r}): name a key")
    if normal.startswith("/") or normal == ".." or normal.startswith("../"):
        raise ValueError(f"artifact key {key!r} escapes the store")
    return normal


def remove_local(root: Path, key: str) -> int:
    """Remove ``key``'s file or folder under ``root``, then the folders it leaves empty."""
    path = contained(root, folder_key(key))
    if path.is_dir():
        count = sum(1 for child in path.rglob("*") if not child.is_dir())
        shutil.rmtree(path)
    elif path.exists():
        count = 1
        path.unlink()
    else:
        return 0
    for parent in path.parents:
        if parent == root.resolve() or not parent.is_relative_to(root.resolve()):
            break
        try:
            parent.rmdir()  # only succeeds while empty
        except OSError:
            break
    return count


def private_folders(folder: Path) -> None:
    """``mkdir -p`` whose new folders only this user may enter (0700), whatever the umask:
    trained models and uploaded data are the owners' own."""
    missing_ones = []
    while not folder.exists() and folder != folder.parent:
        missing_ones.append(folder)
        folder = folder.parent
    for made in reversed(missing_ones):
        try:
            made.mkdir(mode=0o700)
        except FileExistsError:  # made meanwhile by another process
            continue
        made.chmod(0o700)


def atomic_copy(source: Path, target: Path) -> None:
    private_folders(target.parent)
    # NamedTemporaryFile creates the file 0600; the rename keeps that mode.
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

    def delete(self, key: str) -> int:
        return remove_local(self.root, key)

    def check(self) -> None:
        # The folder is made by the first upload: until then, where it will be made.
        place = self.root
        while not place.exists() and place != place.parent:
            place = place.parent
        if not place.is_dir() or not os.access(place, os.W_OK | os.X_OK):
            raise OSError(f"artifact folder {self.root}: cannot write under {place}")


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

    def check(self) -> None:
        self._client.head_bucket(Bucket=self._bucket)  # one request; raises if unreachable

    # Objects listed (and deleted, one request each page) at a time; 1000 is S3's most.
    page_size = 1000

    def delete(self, key: str) -> int:
        folder = self._object(folder_key(key))
        count = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=folder, PaginationConfig={"PageSize": self.page_size}
        )
        for page in pages:
            # The prefix also lists "<key>0/..."; only the key itself and its folder go.
            names = [
                item["Key"]
                for item in page.get("Contents", [])
                if item["Key"] == folder or item["Key"].startswith(folder + "/")
            ]
            if not names:
                continue
            answer = self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": name} for name in names], "Quiet": True},
            )
            failed = answer.get("Errors", [])
            if failed:
                first = failed[0]
                raise OSError(
                    f"could not delete {len(failed)} object(s) under {folder!r} from bucket "
                    f"{self._bucket!r}, e.g. {first.get('Key')!r}: {first.get('Code')} "
                    f"{first.get('Message')}"
                )
            count += len(names)
        remove_local(self._cache, key)  # this host's copies; no other host reads them again
        return count


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
