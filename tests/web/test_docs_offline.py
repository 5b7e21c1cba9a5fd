"""/docs and /redoc work with nothing but the service: their scripts are vendored, not a CDN's."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import Service
from tests.web.conftest import Browser

pytestmark = [pytest.mark.integration, pytest.mark.web]


@pytest.fixture
def offline(web: Browser, service: Service):
    """The page, with every request to anywhere but the service refused (and recorded)."""
    own = urlsplit(service.url).netloc
    outside: list[str] = []

    def only_the_service(route) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    web.context.route("**/*", only_the_service)
    yield web.page, outside
    web.context.unroute("**/*")


def test_docs_list_the_operations_offline_with_an_authorize_button(offline):
    page, outside = offline
    page.goto("/docs")
    page.get_by_text("Submit a training job").first.wait_for()  # an operation's summary
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".opblock").count() >= 10  # one per operation
    assert outside == []
    # The schema's securitySchemes (api/openapi.py) give Swagger UI its key dialog.
    assert page.get_by_role("button", name="Authorize").count() >= 1


def test_redoc_lists_the_operations_offline(offline):
    page, outside = offline
    page.goto("/redoc")
    page.get_by_role("heading", name="Submit a training job").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert outside == []
