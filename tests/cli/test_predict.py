"""``descent predict`` sends image files as they are: its answer is the server's answer for the
same file, whatever the file's size, colours or transparency, since the server converts it."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from descent import client as client_module
from descent.cli import app
from descent.settings import PROJECT_ROOT
from tests.api.test_predict import register_model
from tests.conftest import Service
from tests.serving.pictures import drawn_on_paper

pytestmark = pytest.mark.integration

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    DIGITS = data["x_test"][:3]  # white digits on black, 28×28


def predict(service: Service, model_id: str, *paths: Path) -> Result:
    env = {"DESCENT_URL": service.url, "COLUMNS": "400"}
    return CliRunner().invoke(app, ["predict", model_id, *map(str, paths)], env=env)


def printed_rows(output: str) -> dict[str, list[str]]:
    """The table's rows (the header is drawn with ┃) by image path: [label, probability,
    runner-up]."""
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return {cells[1].strip(): [c.strip() for c in cells[2:5]] for cells in rows}


def server_row(service: Service, model_id: str, path: Path) -> list[str]:
    """What the server answers for the file, uploaded by hand, as the CLI prints it."""
    files = [("file", (path.name, path.read_bytes(), "application/octet-stream"))]
    response = service.client.post(f"/v1/models/{model_id}/predict", files=files)
    assert response.status_code == 200, response.text
    answer = response.json()["predictions"][0]
    ranked = np.argsort(answer["probabilities"])[::-1]
    second = int(ranked[1])
    top = answer["probabilities"][answer["class_index"]]
    return [answer["label"], f"{top:.4f}", f"{second} ({answer['probabilities'][second]:.4f})"]


@pytest.fixture(scope="module")
def model_id(api_only: Service, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("model")
    return register_model(api_only.client, folder, api_only.settings)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """An MNIST digit drawn dark on light (28×28 PNG), one in blue ink on cream paper (a colour
    JPEG, 600×420, off centre) and one as black strokes on a transparent canvas (PNG)."""
    folder = tmp_path_factory.mktemp("pictures")
    paths = [folder / "light.png", folder / "paper.jpg", folder / "canvas.png"]
    Image.fromarray(255 - DIGITS[0]).save(paths[0])
    Image.fromarray(drawn_on_paper(DIGITS[1])).save(paths[1], quality=90)
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., 3] = np.asarray(Image.fromarray(DIGITS[2]).resize((280, 280)))
    Image.fromarray(canvas).save(paths[2])
    return paths


def test_the_answer_for_each_file_is_the_servers_answer_for_it(
    api_only: Service, model_id: str, pictures: list[Path]
):
    result = predict(api_only, model_id, *pictures)
    assert result.exit_code == 0, result.output
    rows = printed_rows(result.output)
    assert list(rows) == [str(path) for path in pictures]
    for path in pictures:
        assert rows[str(path)] == server_row(api_only, model_id, path), path
    assert len({row[1] for row in rows.values()}) == 3  # three different answers were compared


def test_a_light_digit_is_answered_as_the_dark_original_it_inverts_to(
    api_only: Service, model_id: str, pictures: list[Path]
):
    """The conversion happens on the server: the dark-on-light file gets the answer of the
    original MNIST pixels sent as numbers."""
    rows = printed_rows(predict(api_only, model_id, pictures[0]).output)
    response = api_only.client.post(
        f"/v1/models/{model_id}/predict", json={"instances": DIGITS[:1].tolist()}
    )
    answer = response.json()["predictions"][0]
    top = answer["probabilities"][answer["class_index"]]
    assert rows[str(pictures[0])][:2] == [answer["label"], f"{top:.4f}"]


def test_many_files_go_in_several_requests_and_keep_their_order(
    api_only: Service, model_id: str, pictures: list[Path], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(client_module, "FILES_PER_REQUEST", 2)
    paths = [*pictures, *pictures[::-1]]  # 6 files: 3 requests
    result = predict(api_only, model_id, *paths)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert len(lines) == 6
    for line, path in zip(lines, paths, strict=True):
        cells = [cell.strip() for cell in line.split("│")[1:5]]
        assert cells == [str(path), *server_row(api_only, model_id, path)]


def test_a_file_that_is_not_an_image_is_named_in_the_servers_refusal(
    api_only: Service, model_id: str, pictures: list[Path], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(client_module, "FILES_PER_REQUEST", 2)
    notes = pictures[0].parent / "notes.txt"
    notes.write_text("not pixels")
    result = predict(api_only, model_id, *pictures, notes)  # the second request's second file
    assert result.exit_code == 1
    assert "error (422)" in result.output
    assert f"{notes}: the 10 bytes sent are not a PNG, JPEG" in result.output


def test_a_missing_file_is_named_before_anything_is_sent(
    api_only: Service, model_id: str, tmp_path: Path
):
    result = predict(api_only, model_id, tmp_path / "absent.png")
    assert result.exit_code == 2
    assert "cannot read" in result.output and "absent.png" in result.output


def test_an_unknown_model_is_a_404_that_says_so(api_only: Service, pictures: list[Path]):
    result = predict(api_only, "0" * 32, pictures[0])
    assert result.exit_code == 1
    assert "error (404)" in result.output and "0" * 32 in result.output
