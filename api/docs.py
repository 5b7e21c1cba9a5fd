"""The interactive API docs, ``/docs`` (Swagger UI) and ``/redoc``, from the service itself.

FastAPI's own pages load their scripts from a CDN, so they are blank offline or behind a
firewall that allows only the service. These load the copies vendored from npm under
``web/vendor/`` (see its README) and read the same ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

SWAGGER_UI = "/vendor/swagger-ui"
REDOC = "/vendor/redoc"
TITLE = "Descent API"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: try every operation; Authorize keeps an API key in the browser for them."""
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=TITLE,
        swagger_js_url=f"{root}{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{root}/favicon.svg",
        oauth2_redirect_url=None,
        # validatorUrl: Swagger UI would otherwise send the schema's URL to swagger.io.
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )
    return _in_english(page)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """Redoc: the whole reference on one page."""
    root = _root(request)
    page = get_redoc_html(
        openapi_url=root + request.app.openapi_url,
        title=TITLE,
        redoc_js_url=f"{root}{REDOC}/redoc.standalone.js",
        redoc_favicon_url=f"{root}/favicon.svg",
        with_google_fonts=False,
    )
    answer = _in_english(page)
    # Redoc's sidebar shows Redocly's logo from their CDN; the browser is told not to ask.
    answer.headers["content-security-policy"] = "img-src 'self' data:"
    return answer


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _in_english(page: HTMLResponse) -> HTMLResponse:
    # FastAPI's templates open with a bare <html>; a screen reader needs the language.
    html = bytes(page.body).decode().replace("<html>", '<html lang="en">', 1)
    return HTMLResponse(html)
