from pydantic import BaseModel


class DatasetPublic(BaseModel):
    name: str
    title: str
    input_shape: list[int]
    num_classes: int
    class_names: list[str]
    train_size: int
    test_size: int
    source: str
