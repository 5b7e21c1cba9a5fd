"""How much memory one large request costs the API: a 50 MB CSV upload and a 6,300×6,300
transparent PNG sent for prediction.

In one run it starts ``descent serve --no-worker`` (tests/harness.py) in a fresh state
directory, with the upload cap raised to fit the CSV's multipart body, registers a small real
ONNX classifier (tests/serving/onnx_models.py), warms every code path with a small request,
then for each case: resets the API process's peak RSS (``/proc/PID/clear_refs``), reads it
(the baseline: the process as it is now), sends the request, reads the peak again. It prints
the increase, its ratio to the request's size, and the time the request took.

Two CSVs are measured: typical (20 columns of 4-decimal numbers) and the worst case for
parsing (single-digit cells, 2 bytes each, which become 4-byte float32 values); and the
typical rows again as a JSON body (parsed whole: JSON costs more than CSV). The PNG's
ratio is given to its file size (tiny: it is mostly empty) and to its decoded size (RGBA,
4 bytes a pixel), which any decoder must hold.

    .venv/bin/python bench/memory.py [--mb 50]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from tests.api.test_predict import register_model  # noqa: E402
from tests.harness import Service, start_service, stop_service  # noqa: E402

PNG_SIDE = 6_300


def peak_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM"))
    return int(line.split()[1]) * 1024


def reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")  # the peak RSS starts again from the current RSS


def measure(service: Service, send) -> tuple[int, float, object]:  # type: ignore[no-untyped-def]
    """The API's peak RSS increase while ``send()`` runs, and how long it took."""
    reset_peak(service.pid)
    time.sleep(0.2)
    before = peak_rss(service.pid)
    started = time.perf_counter()
    response = send()
    took = time.perf_counter() - started
    return peak_rss(service.pid) - before, took, response


def csv_file(path: Path, size: int, digits: bool) -> Path:
    """A CSV of about ``size`` bytes: 20 feature columns and a class label."""
    rng = np.random.default_rng(0)
    header = ",".join(f"f{i}" for i in range(20)) + ",label\n"
    if digits:
        row_cells = rng.integers(0, 10, size=(1000, 21))
        block = "".join(",".join(map(str, row)) + "\n" for row in row_cells)
    else:
        values = rng.random((1000, 20))
        labels = rng.integers(0, 10, size=1000)
        block = "".join(
            ",".join(f"{v:.4f}" for v in row) + f",{label}\n"
            for row, label in zip(values, labels, strict=True)
        )
    encoded, lines = block.encode(), [line + "\n" for line in block.splitlines()]
    with path.open("wb") as out:
        out.write(header.encode())
        written = len(header)
        while written + len(encoded) <= size:
            out.write(encoded)
            written += len(encoded)
        for line in lines:  # the rest, a row at a time
            if written + len(line) > size:
                break
            out.write(line.encode())
            written += len(line)
    return path


def transparent_png() -> bytes:
    """A ring drawn in black on a transparent 6,300×6,300 canvas (RGBA): a small file."""
    image = Image.new("RGBA", (PNG_SIDE, PNG_SIDE), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((2000, 1500, 4300, 4800), outline=(0, 0, 0, 255), width=500)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def upload(service: Service, path: Path, name: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as file:
        return service.client.post(
            "/v1/datasets",
            data={"name": name, "task": "classification"},
            files={"file": (path.name, file, "text/csv")},
            timeout=600,
        )


def fresh_service(home: Path, size: int) -> tuple[Service, str]:
    """A new API (a process whose allocator holds no memory freed by an earlier case), with
    a model to predict with, warmed by a small upload and a small prediction."""
    service = start_service(
        home,
        worker=False,
        DESCENT_MAX_UPLOAD_BYTES=str(size + 1_000_000),  # the multipart body around the CSV
        DESCENT_ACCESS_LOG="false",
    )
    model_id = register_model(service.client, home.parent, Settings(home=home))
    small = csv_file(home.parent / "small.csv", 20_000, digits=False)
    assert upload(service, small, "warm").status_code == 201
    ring = Image.new("RGBA", (600, 600))
    ImageDraw.Draw(ring).ellipse((200, 150, 430, 480), outline=(0, 0, 0, 255), width=50)
    buffer = io.BytesIO()
    ring.save(buffer, format="PNG")
    files = {"file": ("small.png", buffer.getvalue(), "image/png")}
    assert service.client.post(f"/v1/models/{model_id}/predict", files=files).status_code == 200
    return service, model_id


def csv_case(folder: Path, size: int, digits: bool) -> dict[str, float]:
    path = csv_file(folder / "upload.csv", size, digits)
    service, _ = fresh_service(folder / "home", size)
    try:
        grew, took, response = measure(service, lambda: upload(service, path, "large"))
    finally:
        stop_service(service)
    assert response.status_code == 201, response.text[:500]
    return {
        "bytes": path.stat().st_size,
        "rss_increase_mb": round(grew / 1e6, 1),
        "ratio_to_size": round(grew / path.stat().st_size, 2),
        "seconds": round(took, 2),
    }


def json_case(folder: Path, size: int) -> dict[str, float]:
    """The same kind of rows as the typical CSV, sent as a JSON body."""
    rng = np.random.default_rng(0)
    row = "[" + ",".join(f"{v:.4f}" for v in rng.random(20)) + "]"
    count = (size - 100) // (len(row) + 3)
    body = (
        '{"name": "large", "task": "classification", "x": ['
        + ",".join([row] * count)
        + '], "y": ['
        + ",".join(str(i % 10) for i in range(count))
        + "]}"
    ).encode()
    service, _ = fresh_service(folder / "home", len(body))
    headers = {"content-type": "application/json"}
    try:
        grew, took, response = measure(
            service,
            lambda: service.client.post("/v1/datasets", content=body, headers=headers, timeout=600),
        )
    finally:
        stop_service(service)
    assert response.status_code == 201, response.text[:500]
    return {
        "bytes": len(body),
        "rss_increase_mb": round(grew / 1e6, 1),
        "ratio_to_size": round(grew / len(body), 2),
        "seconds": round(took, 2),
    }


def png_case(folder: Path) -> dict[str, float]:
    png = transparent_png()
    files = {"file": ("ring.png", png, "image/png")}
    service, model_id = fresh_service(folder / "home", 0)
    try:
        predict = f"/v1/models/{model_id}/predict"
        grew, took, response = measure(
            service, lambda: service.client.post(predict, files=files, timeout=120)
        )
    finally:
        stop_service(service)
    assert response.status_code == 200, response.text[:500]
    decoded = PNG_SIDE * PNG_SIDE * 4
    return {
        "bytes": len(png),
        "decoded_rgba_mb": round(decoded / 1e6, 1),
        "rss_increase_mb": round(grew / 1e6, 1),
        "ratio_to_decoded_size": round(grew / decoded, 2),
        "ratio_to_file_size": round(grew / len(png), 1),
        "seconds": round(took, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50, help="CSV size in MB (10^6 bytes)")
    args = parser.parse_args()
    size = int(args.mb * 1_000_000)
    cases = {
        "csv_typical": lambda folder: csv_case(folder, size, digits=False),
        "csv_single_digits": lambda folder: csv_case(folder, size, digits=True),
        "json_typical": lambda folder: json_case(folder, size),
        "png_6300x6300_transparent": png_case,
    }
    results = {}
    for name, case in cases.items():
        with tempfile.TemporaryDirectory() as folder:
            results[name] = case(Path(folder))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
