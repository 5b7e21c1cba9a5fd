from fastapi import APIRouter

from api.schemas.datasets import DatasetPublic
from services import datasets

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.get("", response_model=list[DatasetPublic], summary="List data sets")
def list_datasets() -> list[DatasetPublic]:
    """The built-in data sets a job can train on, with their shapes and class names."""
    return [
        DatasetPublic(
            name=info.name,
            title=info.title,
            input_shape=list(info.input_shape),
            num_classes=info.num_classes,
            class_names=list(info.class_names),
            train_size=info.train_size,
            test_size=info.test_size,
            source=info.source,
        )
        for info in datasets.list_all()
    ]
