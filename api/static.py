"""The page's files (``web/``), served so a kept-open tab and a phone on a slow link load little.

- **Versioned URLs.** Every HTML page is sent with its own asset links (``src``/``href`` to
  ``.js``, ``.css``, ``.svg``) given ``?v=VERSION``, and every script with its relative imports
  given the same, where VERSION is a hash of all the files under ``web/``. An asset asked for
  with the current version is cached for a year (``immutable``): a new release has a new
  version, so a browser never runs yesterday's script with today's page. Anything else (the
  pages themselves, an asset without the version) is ``no-cache``: the browser asks again, and
  the ``ETag`` turns an unchanged file into a 304 with no body.
- **Compression.** Text files (HTML, JS, CSS, SVG, JSON) go out gzipped to a client that
  accepts it (``Vary: Accept-Encoding``); each file is compressed once and kept in memory with
  its version, as the pages and the vendored bundles are a few MiB in all.

Only GET and HEAD; a path outside ``web/`` or not there is the app's usual 404 problem.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
SMALLEST_WORTH_COMPRESSING = 512
# Links from a page to its own files: relative, no scheme, no query yet.
PAGE_ASSET = re.compile(r'((?:src|href)=")((?![a-z]+:|/|#)[^"?#]+\.(?:js|css|svg))(")')
# Relative imports in an ES module: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`.
MODULE_IMPORT = re.compile(r'((?:from|import)\s*\(?\s*")(\.{1,2}/[^"?]+\.js)(")')


@dataclass(frozen=True)
class Prepared:
    """One file as it is sent: its bytes, their gzip, its type and tag."""

    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


class WebFiles:
    """An ASGI app for ``directory``: index.html for a folder, versioned links, gzip, caching."""

    def __init__(self, directory: Path) -> None:
        self.root = directory.resolve()
        self.version = self._version()
        self._prepared: dict[Path, tuple[int, Prepared]] = {}

    def _version(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(p for p in self.root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(self.root)).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()[:12]

    def _find(self, url_path: str) -> Path:
        relative = url_path.lstrip("/")
        path = (self.root / relative).resolve()
        if path != self.root and self.root not in path.parents:
            raise HTTPException(status_code=404)
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            raise HTTPException(status_code=404)
        return path

    def _prepare(self, path: Path) -> Prepared:
        stamp = path.stat().st_mtime_ns
        cached = self._prepared.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        body = path.read_bytes()
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".js":
            media_type = "text/javascript"  # modules need a JavaScript type, whatever the OS says
        version = f"?v={self.version}"
        if path.suffix == ".html":
            body = PAGE_ASSET.sub(lambda m: m[1] + m[2] + version + m[3], body.decode()).encode()
            media_type = "text/html; charset=utf-8"
        elif path.suffix == ".js" and "vendor" not in path.relative_to(self.root).parts:
            body = MODULE_IMPORT.sub(lambda m: m[1] + m[2] + version + m[3], body.decode()).encode()
        gzipped = None
        if media_type.startswith(COMPRESSIBLE) and len(body) >= SMALLEST_WORTH_COMPRESSING:
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        if media_type.startswith("text/") and "charset" not in media_type:
            media_type += "; charset=utf-8"
        etag = f'"{hashlib.sha256(body).hexdigest()[:24]}"'
        prepared = Prepared(body, gzipped, media_type, etag)
        self._prepared[path] = (stamp, prepared)
        return prepared

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        path = self._find(request.path_params.get("path", request.url.path))
        prepared = self._prepare(path)
        versioned = request.query_params.get("v") == self.version and path.suffix != ".html"
        gzip_ok = prepared.gzipped is not None and "gzip" in request.headers.get(
            "accept-encoding", ""
        )
        etag = prepared.etag[:-1] + ('-gz"' if gzip_ok else '"')
        headers = {
            "cache-control": YEAR if versioned else REVALIDATE,
            "etag": etag,
            "vary": "Accept-Encoding",
        }
        # Pages are always sent whole: their security headers (api/security_headers.py) are
        # chosen by their content type and worked out from their body, and a 304 carries
        # neither, yet replaces the cached page's headers.
        matches = request.headers.get("if-none-match", "").split(",")
        if path.suffix != ".html" and etag in [t.strip() for t in matches]:
            headers["content-type"] = prepared.media_type
            await Response(status_code=304, headers=headers)(scope, receive, send)
            return
        body = prepared.gzipped if gzip_ok else prepared.body
        if gzip_ok:
            headers["content-encoding"] = "gzip"
        response = Response(body, media_type=prepared.media_type, headers=headers)
        if request.method == "HEAD":
            response.body = b""  # content-length stays that of the GET
        await response(scope, receive, send)
