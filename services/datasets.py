"""The data sets a job may train on: the built-in ones and those users upload."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import ColumnElement, event, func, or_, select
from sqlalchemy import delete as delete_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, NotAllowed, NotFound
from models import Job, JobStatus, UserDataset
from models.api_key import LOCAL_OWNER
from services.artifacts import ArtifactStore
from services.dataset_uploads import Upload
from training import user_data
from training.builtin_datasets import DATASETS, DatasetInfo
from training.data_info import DataInfo, builtin_info

log = logging.getLogger(__name__)

# The jobs that will still read a data set: a queued job (or one the recovery sweep queued
# again) reads it when a worker claims it, a running one when it resumes after a crash.
UNFINISHED = [status.value for status in JobStatus if not status.finished]
MAX_NAMED_JOBS = 10


def list_all() -> list[DatasetInfo]:
    """The built-in data sets."""
    return list(DATASETS.values())


def page(
    session: Session, *, limit: int, offset: int, owner: str | None
) -> tuple[list[DatasetInfo | UserDataset], int]:
    """The built-in data sets, then ``owner``'s uploads oldest first (everyone's for None), a
    page at a time, and how many there are in all."""
    builtin = list_all()[offset : offset + limit]
    mine = _of(owner)
    uploads = session.scalar(select(func.count()).select_from(UserDataset).where(*mine)) or 0
    room = limit - len(builtin)
    uploaded: Sequence[UserDataset] = []
    if room:
        uploaded = session.scalars(
            select(UserDataset)
            .where(*mine)
            .order_by(UserDataset.created_at, UserDataset.id)
            .limit(room)
            .offset(max(0, offset - len(DATASETS)))
        ).all()
    return [*builtin, *uploaded], len(DATASETS) + uploads


def aliases(session: Session, name_or_id: str, owner: str | None) -> list[str]:
    """Every way a spec may name the data set ``name_or_id`` names: itself and, for an upload
    of ``owner``'s (anyone's for None), its name and its id."""
    if "\x00" in name_or_id:  # no name holds one, and PostgreSQL text cannot be asked for it
        return [name_or_id]
    rows = session.execute(
        select(UserDataset.name, UserDataset.id).where(
            or_(UserDataset.name == name_or_id, UserDataset.id == name_or_id), *_of(owner)
        )
    ).all()
    return list(dict.fromkeys([name_or_id, *(alias for row in rows for alias in row)]))


def find_uploaded(session: Session, name_or_id: str, owner: str | None) -> UserDataset | None:
    """``owner``'s uploaded data set with this id or name (None: anyone's, as an admin sees).

    Another owner's data set is, to this caller, one that does not exist."""
    if "\x00" in name_or_id:  # no name holds one, and PostgreSQL text cannot be asked for it
        return None
    row = session.scalars(
        select(UserDataset).where(UserDataset.id == name_or_id, *_of(owner))
    ).first()
    if row is not None:
        return row
    named = session.scalars(
        select(UserDataset)
        .where(UserDataset.name == name_or_id, *_of(owner))
        .order_by(UserDataset.owner)
    ).all()
    if len(named) > 1:  # only an admin, who sees every owner's, can meet a shared name
        raise Conflict(
            f"{len(named)} owners have a data set named {name_or_id!r}: "
            + ", ".join(f"{row.owner} ({row.id})" for row in named),
            fix="ask for the one you mean by its id",
            code="dataset_ambiguous",
        )
    return named[0] if named else None


def get_uploaded(session: Session, name_or_id: str, owner: str | None) -> UserDataset:
    row = find_uploaded(session, name_or_id, owner)
    if row is None:
        raise _missing(name_or_id)
    return row


def _missing(name_or_id: str) -> NotFound:
    return NotFound(
        f"no uploaded data set named {name_or_id!r}",
        fix="list data sets with {list_datasets}, or upload one with {upload_dataset}",
        code="dataset_not_found",
    )


def _of(owner: str | None) -> list[ColumnElement[bool]]:
    return [UserDataset.owner == owner] if owner is not None else []


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


def describe(session: Session, name_or_id: str, owner: str) -> DataInfo | None:
    """What a spec's ``dataset.name`` refers to for a job of ``owner``: a built-in data set,
    one ``owner`` uploaded, or None. A job trains only on its own owner's uploads."""
    info = builtin_info(name_or_id)
    if info is not None:
        return info
    row = find_uploaded(session, name_or_id, owner)
    if row is not None:
        # On PostgreSQL, held until the job that names it is committed: a delete racing this
        # submission waits, then sees the job and refuses. SQLite takes no row lock and reads
        # this outside any transaction: there the submission checks again, once its job is
        # inserted (see held).
        row = _locked(session, row, share=True)
    return info_of(row) if row is not None else None


def held(session: Session, name_or_id: str, owner: str, checked_id: str | None = None) -> bool:
    """Whether a job of ``owner`` that names ``name_or_id``, just inserted in this transaction,
    may be committed: the data set is built in, or the upload it was checked against (the one
    with ``checked_id``; without it, whichever of ``owner``'s uploads the name finds) is still
    there, and now held until commit.

    Submission and delete each decide while holding what the other needs. On SQLite the job's
    INSERT took the database's write lock, so no delete can commit before this transaction
    does, and this read sees every delete that did (a delete, in turn, looks for jobs only after
    its own DELETE, under the same lock). On PostgreSQL the row lock does the same."""
    if builtin_info(name_or_id) is not None:
        return True
    if checked_id is None:
        found = find_uploaded(session, name_or_id, owner)
        if found is None:
            return False
        checked_id = found.id
    still = (
        select(UserDataset.id)
        .where(UserDataset.id == checked_id, UserDataset.owner == owner)
        .with_for_update(read=True)
    )
    return session.scalars(still).first() is not None


def known_names(session: Session, owner: str) -> list[str]:
    """The names a job of ``owner`` may train on: the built-in ones and ``owner``'s uploads."""
    uploaded = select(UserDataset.name).where(UserDataset.owner == owner)
    return [*DATASETS, *session.scalars(uploaded.order_by(UserDataset.name))]


def create(
    session: Session, store: ArtifactStore, upload: Upload, owner: str = LOCAL_OWNER
) -> UserDataset:
    """Store an upload's rows in the artifact store and its description in the database."""
    taken = Conflict(
        f"a data set named {upload.name!r} already exists",
        fix="choose another name (your data set names are unique)",
        code="dataset_exists",
    )
    if _named(session, upload.name, owner) is not None:
        raise taken
    row = UserDataset(
        owner=owner,
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


def _named(session: Session, name: str, owner: str) -> UserDataset | None:
    return session.scalars(
        select(UserDataset).where(UserDataset.owner == owner, UserDataset.name == name)
    ).first()


def source(
    session: Session, store: ArtifactStore, name_or_id: str, owner: str
) -> user_data.UserData | None:
    """The description and file of the uploaded data set a job of ``owner`` names, for the
    worker; None for a built-in one. A name two owners share is the job owner's."""
    if name_or_id in DATASETS:
        return None
    row = get_uploaded(session, name_or_id, owner)
    return user_data.UserData(info_of(row), store.local_path(row.data_key))


def delete(session: Session, store: ArtifactStore, name_or_id: str, owner: str | None) -> None:
    """Delete ``owner``'s uploaded data set (None: anyone's, as an admin) and, once that is
    committed, its stored rows. Refused while one of its owner's unfinished jobs names it.

    Finished jobs keep working: their models hold everything prediction and download need,
    and nothing reads the data set again. An unfinished job must not lose it, nor find a new
    upload under the same name: its spec names the data set by name (or id), so a job resumed
    after a crash would train on whatever holds that name then. The refusal below is what keeps
    a re-upload under a deleted name from ever reaching an old job."""
    if name_or_id in DATASETS:
        raise NotAllowed(
            f"{name_or_id!r} is a built-in data set: it ships with Descent and cannot be deleted",
            allowed=("read",),
            fix="delete only data sets you uploaded ({list_datasets} lists them, builtin false)",
            code="dataset_builtin",
        )
    found = get_uploaded(session, name_or_id, owner)
    row = _locked(session, found, share=False)
    if row is None:  # deleted by a request that committed while this one waited for the lock
        raise _missing(name_or_id)
    # Delete first, then look for the jobs that name it, all in one transaction: on SQLite
    # the DELETE takes the write lock, so a submission that has not committed its job by now
    # commits after this one and finds the data set gone (datasets.held); on PostgreSQL the
    # row lock above waited for any submission holding the row. A refusal below raises, and
    # the caller's rollback keeps the row.
    gone = session.execute(
        delete_rows(UserDataset).where(UserDataset.id == row.id),
        execution_options={"synchronize_session": False},
    )
    if gone.rowcount == 0:  # SQLite: deleted by a request that committed since the read above
        raise _missing(name_or_id)
    session.expunge(row)  # its attributes stay loaded, for the lines below
    users = jobs_using(session, row)
    if users:
        named = ", ".join(f"{job_id} ({status})" for job_id, status in users[:MAX_NAMED_JOBS])
        more = f" and {len(users) - MAX_NAMED_JOBS} more" if len(users) > MAX_NAMED_JOBS else ""
        raise Conflict(
            f"data set {row.name!r} is used by {len(users)} unfinished job(s): {named}{more}",
            fix="wait for the jobs to finish, or cancel them with {cancel_job}, "
            "then delete the data set again",
            errors=[
                {
                    "field": "dataset.name",
                    "message": f"job {job_id} trains on it and is {status}",
                    "job_id": job_id,
                    "status": status,
                }
                for job_id, status in users
            ],
            code="dataset_in_use",
        )
    key = row.data_key
    # Only once the row's deletion is committed: a rollback must not leave a data set whose
    # rows are gone. A file that outlives a failed removal is unreachable (a new upload of the
    # same name gets a new id, so a new key): it costs space, never correctness.
    event.listen(session, "after_commit", lambda _session: _remove(store, key), once=True)


def jobs_using(session: Session, row: UserDataset) -> list[tuple[str, str]]:
    """(id, status) of ``row``'s owner's unfinished jobs whose spec names it, by name or id."""
    named = Job.spec[("dataset", "name")].as_string()
    found = session.execute(
        select(Job.id, Job.status)
        .where(
            Job.owner == row.owner,
            Job.status.in_(UNFINISHED),
            named.in_([row.name, row.id]),
        )
        .order_by(Job.created_at, Job.id)
    )
    return [(job_id, status) for job_id, status in found]


def _locked(session: Session, row: UserDataset, *, share: bool) -> UserDataset | None:
    """``row`` again, locked against a concurrent delete (share) or for one (not share);
    None if it is gone by the time the lock is held."""
    return session.scalars(
        select(UserDataset)
        .where(UserDataset.id == row.id)
        .with_for_update(read=share)
        .execution_options(populate_existing=True)
    ).first()


def _remove(store: ArtifactStore, key: str) -> None:
    if not key:
        return
    try:
        store.delete(key)
    except Exception:  # the row is gone; the file is only space now (see delete)
        log.exception("could not remove the deleted data set's file %r", key)
