"""SQLAlchemy tables. Importing the package registers every table on ``Base.metadata``."""

from models.api_key import ApiKey
from models.base import Base
from models.batch import Batch
from models.dataset import UserDataset
from models.epoch import EpochRecord
from models.idempotency import IdempotencyKey
from models.job import Job, JobStatus, JobTransition
from models.job_event import JobEvent
from models.registered_model import ModelAlias, ModelVersion, RegisteredModel
from models.search import Search, SearchRung, SearchTrial
from models.trained_model import TrainedModel

__all__ = [
    "ApiKey",
    "Base",
    "Batch",
    "EpochRecord",
    "IdempotencyKey",
    "Job",
    "JobEvent",
    "JobStatus",
    "JobTransition",
    "ModelAlias",
    "ModelVersion",
    "RegisteredModel",
    "Search",
    "SearchRung",
    "SearchTrial",
    "TrainedModel",
    "UserDataset",
]
