from fastapi import APIRouter

from api.schemas.layers import LayerCatalog
from training.layers.catalog import catalog
from training.vocabulary import ACTIVATIONS

router = APIRouter(prefix="/v1/layers", tags=["layers"])


@router.get("", response_model=LayerCatalog, summary="List layer kinds")
def list_layer_kinds() -> LayerCatalog:
    """Every layer kind with its fields, their types, defaults and allowed values."""
    return LayerCatalog(kinds=catalog(), activations=list(ACTIVATIONS))
