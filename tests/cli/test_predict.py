"""``descent predict`` sends image files as they are: its answer is the server's answer for the
same file, whatever the file's size, colours or transparency, since the server converts it."""

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from core.settings import PROJECT_ROOT
from descent import client as client_module
from descent.cli import app
from tests.api.test_predict import register_model
from tests.conftest import Backend, Service, start_service, stop_service
from tests.serving.pictures import drawn_on_paper

pytestmark = pytest.mark.integration

with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
    DIGITS = data["x_test"][:3]  # white digits on black, 28×28


def predict(service: Service, model_id: str, *args: Path | str) -> Result:
    env = {"DESCENT_URL": service.url, "COLUMNS": "400"}
    return CliRunner().invoke(app, ["predict", model_id, *map(str, args)], env=env)


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


def test_json_output_is_the_servers_answer_with_every_file_in_order(
    api_only: Service, model_id: str, pictures: list[Path]
):
    result = predict(api_only, model_id, *pictures, "--output", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    files = [("file", (p.name, p.read_bytes(), "application/octet-stream")) for p in pictures]
    served = api_only.client.post(f"/v1/models/{model_id}/predict", files=files).json()
    assert answer == served


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
    assert result.exit_code == 3  # a 4xx: bad request
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
    assert result.exit_code == 3  # a 4xx: bad request
    assert "error (404)" in result.output and "0" * 32 in result.output


PIXELS_PER_REQUEST = 25_000  # two 100×100 drawings a request, not three


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Service]:
    """The API alone, decoding at most PIXELS_PER_REQUEST pixels a prediction request."""
    home = tmp_path_factory.mktemp("descent-tight")
    limit = {"DESCENT_MAX_REQUEST_PIXELS": str(PIXELS_PER_REQUEST)}
    running = start_service(home, worker=False, **limit, **backend(home))
    yield running
    stop_service(running)


@pytest.fixture(scope="module")
def tight_model(tight: Service, tmp_path_factory: pytest.TempPathFactory) -> str:
    return register_model(tight.client, tmp_path_factory.mktemp("model"), tight.settings)


def drawing(folder: Path, name: str, digit: int, side: int) -> Path:
    """An MNIST digit, dark on light, drawn ``side``×``side``: few bytes, many pixels."""
    path = folder / name
    Image.fromarray(255 - DIGITS[digit]).resize((side, side)).save(path)
    return path


def test_files_whose_pixels_exceed_the_servers_budget_go_in_smaller_requests(
    tight: Service, tight_model: str, tmp_path: Path
):
    paths = [drawing(tmp_path, f"{index}.png", index % 3, 100) for index in range(5)]
    result = predict(tight, tight_model, *paths)
    assert result.exit_code == 0, result.output
    rows = printed_rows(result.output)
    assert list(rows) == [str(path) for path in paths]
    for path in paths:
        assert rows[str(path)] == server_row(tight, tight_model, path), path


def test_a_file_over_the_budget_on_its_own_is_named_in_the_servers_refusal(
    tight: Service, tight_model: str, tmp_path: Path
):
    small = [drawing(tmp_path, f"{index}.png", index, 100) for index in range(3)]
    large = drawing(tmp_path, "large.png", 0, 200)  # 40,000 pixels
    result = predict(tight, tight_model, small[0], small[1], large, small[2])
    assert result.exit_code == 3  # a 4xx: bad request
    assert "error (413)" in result.output
    assert f"{large}: the request's images hold more than 25,000 pixels" in result.output
