"""The database and the artifacts are this user's alone, whatever the umask: another local user
cannot read API key digests, specs, uploaded data or trained models."""

import os
import stat
from pathlib import Path

from sqlalchemy import text

from models.db import get_engine
from services.artifacts import LocalArtifactStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path: Path):
    old = os.umask(0o022)  # the usual umask: files world-readable unless made otherwise
    try:
        database = tmp_path / "descent.db"
        engine = get_engine(f"sqlite:///{database}")
        with engine.begin() as connection:
            connection.execute(text("create table t (x integer)"))
            connection.execute(text("insert into t values (1)"))
            wal = tmp_path / "descent.db-wal"
            assert wal.exists()
            assert mode(wal) == 0o600
        assert mode(database) == 0o600
        engine.dispose()
    finally:
        os.umask(old)


def test_artifacts_and_their_folders_are_private(tmp_path: Path):
    old = os.umask(0o022)
    try:
        source = tmp_path / "model.onnx"
        source.write_bytes(b"weights")
        store = LocalArtifactStore(tmp_path / "artifacts")
        store.put_file("models/abc/model.onnx", source)
        stored = store.local_path("models/abc/model.onnx")
        assert stored.read_bytes() == b"weights"
        assert mode(stored) == 0o600
        for folder in (tmp_path / "artifacts", tmp_path / "artifacts/models", stored.parent):
            assert mode(folder) == 0o700, folder
    finally:
        os.umask(old)
