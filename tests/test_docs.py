"""The README stays short and the docs stay true: generated pages match the code, links resolve."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _generator():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["spec.md", "settings.md", "cli-reference.md"])
def test_generated_page_matches_the_code(page):
    expected = _generator().pages()[ROOT / "docs" / page]
    assert (ROOT / "docs" / page).read_text() == expected, (
        f"docs/{page} is out of date with the code it describes: run scripts/docs and commit it"
    )


def test_readme_reads_in_ten_minutes():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines; move reference text to docs/"


def _relative_links(page: Path) -> list[str]:
    links = LINK.findall(page.read_text())
    return [link for link in links if not re.match(r"[a-z]+:|#", link)]


@pytest.mark.parametrize(
    "page",
    [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
    ids=lambda page: str(page.relative_to(ROOT)),
)
def test_every_relative_link_points_at_a_file(page):
    missing = [
        link for link in _relative_links(page) if not (page.parent / link.split("#", 1)[0]).exists()
    ]
    assert not missing, f"{page.relative_to(ROOT)} links to files that do not exist: {missing}"
