"""Descent's client side: the ``descent`` command and the Python client (``descent.client``),
which talk to a server only over HTTP. Nothing on the server side imports this package."""

from core import __version__

__all__ = ["__version__"]
