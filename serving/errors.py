"""What can go wrong when a client asks a model a question; the API renders each as a 4xx.

They are ``services.errors`` types (a module that imports nothing), so the one handler that
renders those renders these too; each keeps its own title.
"""

from __future__ import annotations

from services.errors import DescentError, InvalidInput, PayloadTooLarge


class InputError(InvalidInput, ValueError):
    """The instances cannot be fed to the model; the message says what was expected."""

    title = "Invalid instances"


class TooLarge(PayloadTooLarge):
    """The request holds more than the server accepts (bytes, instances or pixels)."""

    title = "Request too large"


class UnsupportedMediaType(DescentError):
    status_code = 415
    title = "Unsupported media type"


class ModelFileGone(DescentError):
    """The model is registered but its file is missing or unreadable."""

    status_code = 410
    title = "Model file gone"
