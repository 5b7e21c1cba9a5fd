"""The inference protocols other clients speak, beside Descent's own API.

- TF Serving's REST API: ``/v1/models/NAME[/versions/V|/labels/L][:predict|:classify|:regress
  |/metadata]`` (api/routes/tf_serving.py);
- the Open Inference Protocol v2 of Triton, KServe and MLServer: ``/v2/...``
  (api/routes/open_inference.py).

Their clients read errors as ``{"error": "..."}``, not as problem details: every error on
their paths, whoever raises it (authentication, a missing model, a body too large), is written
in that form by api/errors.py.
"""

from __future__ import annotations

import re
from typing import Any

# A TF Serving path: a method after a colon, /metadata, or a version or label of a model.
TF_SERVING = re.compile(
    r"^/v1/models/[^/]+(?:/(?:versions|labels)/[^/]+)?(?::(?:predict|classify|regress)|/metadata)$"
    r"|^/v1/models/[^/]+/(?:versions|labels)/[^/]+$"
)
OPEN_INFERENCE = re.compile(r"^/v2(?:/|$)")


def speaks_protocol(path: str) -> bool:
    """Whether ``path`` belongs to an inference protocol, whose errors are ``{"error": ...}``."""
    return bool(OPEN_INFERENCE.match(path) or TF_SERVING.match(path))


def error_body(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem body as the protocols' clients read it: the detail and the fix in ``error``,
    the stable ``code`` kept beside it for those who branch on it."""
    text = problem.get("detail", "")
    if problem.get("fix"):
        text = f"{text}; {problem['fix']}"
    return {"error": text, "code": problem.get("code")}
