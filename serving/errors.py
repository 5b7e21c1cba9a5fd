"""What can go wrong when a client asks a model a question, as domain kinds (``core.errors``)
with titles of their own; the API maps each kind to its status."""

from __future__ import annotations

from core.errors import Gone, InvalidInput, PayloadTooLarge


class InputError(InvalidInput, ValueError):
    """The instances cannot be fed to the model; the message says what was expected."""

    title = "Invalid instances"
    code = "input_invalid"


class TooLarge(PayloadTooLarge):
    """The request holds more than the server accepts (bytes, instances or pixels)."""

    title = "Request too large"


class ModelFileGone(Gone):
    """The model is registered but its file is missing or unreadable."""

    title = "Model file gone"
    code = "model_gone"
