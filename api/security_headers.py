"""Security headers on every answer: the pages hold an API key, so no other site may frame
them, run script in them or learn their URLs.

Every answer gets ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY`` and a Content-Security-Policy:

- API answers (JSON, problems, event streams): ``default-src 'none'; frame-ancestors 'none'``,
  since nothing in them is ever rendered as a page;
- pages (``web/`` and ``/docs``, ``/redoc``): scripts, images, fonts and connections from this
  origin only, no plugins, no ``<base>``, no framing. An inline script is allowed by its hash
  alone: FastAPI writes one into ``/docs``, and the hash is worked out from each HTML answer as
  it is sent (a few KiB), so a page edited later stays allowed with no list to keep here.
  Styles may be inline (the pages set bar widths and colours in ``style`` attributes, and the
  docs bundles add ``<style>`` at run time); with scripts, images and fonts held to this origin,
  an injected style can neither run code nor send anything elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
REPLACED = {name for name, _ in ALWAYS}
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _hash(text: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode() + "'"


def page_policy(body: bytes) -> str:
    """The CSP for an HTML page: its own inline scripts allowed by their hashes."""
    scripts = sorted({_hash(m.group(1)) for m in INLINE_SCRIPT.finditer(body) if m.group(1)})
    return PAGE_POLICY.format(scripts="".join(" " + s for s in scripts))


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def secured(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in REPLACED
                ]
                headers += ALWAYS
                if not _is_html(headers):
                    if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                        headers.append((b"content-security-policy", API_POLICY.encode()))
                    await send({**message, "headers": headers})
                    return
                # A page: its policy needs its body, so both go once all of it is here.
                start = {**message, "headers": headers}
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            whole = b"".join(body)
            headers = [
                (k, v) for k, v in start["headers"] if k.lower() != b"content-security-policy"
            ]
            headers.append((b"content-security-policy", page_policy(whole).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": whole, "more_body": False})

        await self.app(scope, receive, secured)


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
