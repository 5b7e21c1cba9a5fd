"""The data sets a job may train on: the built-in ones and those users upload."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import UserDataset
from services.artifacts import ArtifactStore
from services.dataset_uploads import Upload
from services.errors import Conflict, NotFound
from training import user_data
from training.data_info import DataInfo, builtin_info
from training.datasets import DATASETS, DatasetInfo


def list_all() -> list[DatasetInfo]:
    """The built-in data sets."""
    return list(DATASETS.values())


def list_uploaded(session: Session) -> Sequence[UserDataset]:
    return session.scalars(select(UserDataset).order_by(UserDataset.created_at)).all()


def find_uploaded(session: Session, name_or_id: str) -> UserDataset | None:
    return session.scalars(
        select(UserDataset).where(or_(UserDataset.name == name_or_id, UserDataset.id == name_or_id))
    ).first()


def get_uploaded(session: Session, name_or_id: str) -> UserDataset:
    row = find_uploaded(session, name_or_id)
    if row is None:
        raise NotFound(
            f"no uploaded data set named {name_or_id!r}",
            fix="list data sets with GET /v1/datasets, or upload one with POST /v1/datasets",
        )
    return row


def info_of(row: UserDataset) -> DataInfo:
    return DataInfo(
        name=row.name,
        task="regression" if row.task == "regression" else "classification",
        input_shape=tuple(row.input_shape),
        train_size=row.rows,
        class_names=tuple(row.class_names),
        target_size=row.target_size,
        scaling="none",
        id=row.id,
    )


def describe(session: Session, name_or_id: str) -> DataInfo | None:
    """What a spec's ``dataset.name`` refers to: a built-in or uploaded data set, or None."""
    info = builtin_info(name_or_id)
    if info is not None:
        return info
    row = find_uploaded(session, name_or_id)
    return info_of(row) if row is not None else None


def known_names(session: Session) -> list[str]:
    return [*DATASETS, *session.scalars(select(UserDataset.name).order_by(UserDataset.name))]


def create(session: Session, store: ArtifactStore, upload: Upload) -> UserDataset:
    """Store an upload's rows in the artifact store and its description in the database."""
    taken = Conflict(
        f"a data set named {upload.name!r} already exists",
        fix="choose another name (data set names are unique)",
    )
    if find_uploaded(session, upload.name) is not None:
        raise taken
    row = UserDataset(
        name=upload.name,
        task=upload.task,
        input_shape=list(upload.x.shape[1:]),
        rows=len(upload.x),
        class_names=upload.class_names,
        target_size=upload.target_size,
        feature_names=upload.feature_names,
        data_key="",
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same name, uploaded at the same moment
        raise taken from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.npz"
        user_data.save(path, upload.x, upload.y)
        row.data_key = store.put_file(f"datasets/{row.id}/data.npz", path)
    session.flush()
    return row


def source(session: Session, store: ArtifactStore, name_or_id: str) -> user_data.UserData | None:
    """An uploaded data set's description and file for the worker; None for a built-in one."""
    if name_or_id in DATASETS:
        return None
    row = get_uploaded(session, name_or_id)
    return user_data.UserData(info_of(row), store.local_path(row.data_key))
