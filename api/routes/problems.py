"""The pages a problem's ``type`` points to: what each code means and how to fix it.

``/problems`` lists every code, ``/problems/{code}`` explains one: HTML for a person, JSON
for a client that asks for it (``Accept: application/json``). No key is needed: the pages
describe the API, not anyone's data. Not in the OpenAPI document, like /docs.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.problem_types import PROBLEM_TYPES, ProblemType, type_uri
from core.errors import NotFound

router = APIRouter(prefix="/problems", include_in_schema=False)

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}code{background:#f2f2f2;padding:0 .2em}td,th{text-align:left;"
    "padding:.2rem .6rem;vertical-align:top}"
)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _as_json(code: str, kind: ProblemType) -> dict[str, object]:
    return {"type": type_uri(code), "code": code, **kind._asdict()}


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Descent</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _status(kind: ProblemType) -> str:
    return str(kind.status) if kind.status is not None else "varies"


@router.get("", summary="List problem codes")
def list_problem_types(request: Request) -> Response:
    """Every code an error body may carry, with its status and title."""
    if _wants_json(request):
        return JSONResponse([_as_json(code, kind) for code, kind in PROBLEM_TYPES.items()])
    rows = "".join(
        f'<tr><td><a href="{type_uri(code)}"><code>{code}</code></a></td>'
        f"<td>{_status(kind)}</td><td>{escape(kind.title)}</td></tr>"
        for code, kind in PROBLEM_TYPES.items()
    )
    return _page(
        "Problem codes",
        "<h1>Problem codes</h1><p>Every Descent error is an <code>application/problem+json"
        "</code> body whose <code>code</code> is one of these, and whose <code>type</code> is "
        "this page's address for it.</p>"
        f"<table><tr><th>code</th><th>status</th><th>title</th></tr>{rows}</table>",
    )


@router.get("/{code}", summary="Explain a problem code")
def get_problem_type(code: str, request: Request) -> Response:
    """What one code means, and how to fix it."""
    kind = PROBLEM_TYPES.get(code)
    if kind is None:
        raise NotFound(f"there is no problem code {code!r}", fix="GET /problems lists every code")
    if _wants_json(request):
        return JSONResponse(_as_json(code, kind))
    return _page(
        kind.title,
        f"<h1>{escape(kind.title)}</h1>"
        f"<p>Code <code>{code}</code>, HTTP status {_status(kind)}.</p>"
        f"<h2>What it means</h2><p>{escape(kind.meaning)}</p>"
        f"<h2>How to fix it</h2><p>{escape(kind.fix)}</p>"
        "<p>The error body's <code>detail</code> says what went wrong with your request, and "
        "its <code>fix</code> (and each entry of <code>errors</code>) how to fix it. "
        '<a href="/problems">All codes</a> · <a href="/docs">API documentation</a></p>',
    )
