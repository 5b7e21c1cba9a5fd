"""The web page's files: every one a page names is served, with the right type, from here."""

import re

from fastapi.testclient import TestClient

from core.settings import PROJECT_ROOT

WEB = PROJECT_ROOT / "web"
PAGES = ["index.html", "job.html", "compare.html", "predict.html", "search.html"]


def referenced(text: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#?]+)"', text) + re.findall(r'from "\./([^"]+)"', text)


def test_every_file_a_page_or_script_names_is_served(client: TestClient):
    for page in PAGES:
        html = client.get(f"/{page}")
        assert html.status_code == 200, page
        for path in referenced(html.text):
            if path in ("./", "docs") or path.endswith(".html"):
                continue
            response = client.get(f"/{path}")
            assert response.status_code == 200, f"{page} names {path}"
            if path.endswith(".js"):
                assert "javascript" in response.headers["content-type"]  # modules need it
    for script in (WEB / "js").glob("*.js"):
        for module in referenced(script.read_text()):
            assert (WEB / "js" / module).is_file(), f"{script.name} imports {module}"


def test_the_page_needs_nothing_from_the_internet():
    for path in WEB.rglob("*"):
        if path.suffix in (".html", ".js", ".css") and "vendor" not in path.parts:
            text = path.read_text()
            assert not re.search(r'(?:src|href)="(?:https?:)?//', text), path
            assert not re.search(r"(import|fetch)\s*\(?\s*[\"'](https?:)?//", text), path
