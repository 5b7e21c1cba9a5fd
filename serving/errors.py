"""What can go wrong when a client asks a model a question; the API renders each as a 4xx."""

from __future__ import annotations


class ServingError(Exception):
    """Base: ``str(exc)`` says what is wrong; ``fix``, where there is one, says what to do."""

    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, fix: str | None = None) -> None:
        super().__init__(detail)
        self.fix = fix


class InputError(ServingError, ValueError):
    """The instances cannot be fed to the model; the message says what was expected."""

    status_code = 422
    title = "Invalid instances"


class TooLarge(ServingError):
    """The request holds more than the server accepts (bytes, instances or pixels)."""

    status_code = 413
    title = "Request too large"


class UnsupportedMediaType(ServingError):
    status_code = 415
    title = "Unsupported media type"


class ModelFileGone(ServingError):
    """The model is registered but its file is missing or unreadable."""

    status_code = 410
    title = "Model file gone"
