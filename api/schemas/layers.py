from pydantic import BaseModel, Field

from training.layers.catalog import LayerKind
from training.vocabulary import Activation


class LayerCatalog(BaseModel):
    """The layer kinds a spec's ``model.layers`` may hold, described for a form."""

    kinds: list[LayerKind]
    activations: list[Activation] = Field(
        description="The activations a layer or a preset may use."
    )
