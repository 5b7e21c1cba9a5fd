"""Read an uploaded CSV file into float32 arrays, a block of rows at a time, in bounded memory.

The file is read from the spooled upload (on disk past 1 MiB), never as one string: the rows
are counted first (a byte scan), then parsed once, 4,096 rows at a time, into a float32 array
of that size, so a CSV costs about 4 bytes per cell however it is written (a ``list`` of
Python floats costs 32), at most twice the file's size. Labels become small integer codes as
they are read. Every refusal names the line (and
the column where there is one) and says how to fix it; nothing the ``csv`` module raises
reaches the client as a 500.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from core.errors import InvalidInput

SCAN_CHUNK = 1 << 20
BLOCK_CELLS = 1 << 16  # cells held as text at once (a few MB), however wide the rows
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Table:
    """A CSV's rows: the features, and the labels as codes into ``labels`` (classification)
    or as numbers (regression)."""

    x: np.ndarray  # float32 (rows, features)
    codes: np.ndarray  # int32 (rows,): index into labels; regression: unused
    labels: list[str]  # each distinct label as written, in the order first seen
    targets: np.ndarray  # float32 (rows, 1) for regression, else empty
    feature_names: list[str]
    target: str


def read(file: IO[bytes], task: str, target: str | None, refuse: Any) -> Table:
    """The CSV in ``file`` (a header row, then rows); ``target`` names the label column
    (default the last). ``refuse(field, message, fix, found=None)`` makes the error raised."""
    lines, size = _scan(file)
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        with np.errstate(over="ignore"):  # 1e300 is finite, not a float32: checked in table()
            return _read(reader, lines, size, task, target, refuse)
    except csv.Error as exc:
        raise _csv_error(exc, max(1, reader.line_num), refuse) from None
    except UnicodeDecodeError:
        raise refuse(
            "file",
            f"the file is not UTF-8 text (from about line {reader.line_num + 1} on)",
            "save the CSV as UTF-8",
        ) from None
    finally:
        text.detach()  # the upload's file stays open: its owner closes it


def _read(reader: Any, lines: int, size: int, task: str, target: str | None, refuse: Any) -> Table:
    header = next((row for row in reader if row), None)
    if header is None:
        raise refuse("file", "the CSV needs a header row and at least one data row", "add them")
    header = [cell.strip() for cell in header]
    if all(_is_number(cell) for cell in header):
        raise refuse(
            "file",
            "the first row holds numbers, but it must name the columns",
            "add a header row such as x,y",
            found=header[:20],
        )
    column = target if target is not None else header[-1]
    if column not in header:
        raise refuse(
            "target",
            f"{column!r} is not a column of the CSV",
            f"name one of {header[:20]}" + (" ..." if len(header) > 20 else ""),
            column,
        )
    at = header.index(column)
    names = [cell for i, cell in enumerate(header) if i != at]
    if not names:
        raise refuse(
            "file",
            f"the CSV has no feature column besides the target {column!r}: a data set needs "
            "at least one feature column",
            "add the columns the model should learn from",
        )
    # Each row takes at least 2 bytes a cell (a digit and a comma or line end): blank lines
    # cannot make the array larger than the file allows.
    bound = min(lines, size // (2 * len(header)) + 1)
    rows = _Rows(bound, names, task == "regression", refuse)
    for row in reader:
        if not row:
            continue
        line = reader.line_num
        if len(row) != len(header):
            raise refuse(
                "file",
                f"line {line} has {len(row)} cells, the header {len(header)}",
                "give every row one cell per column",
            )
        label = row.pop(at).strip()
        if task == "regression":
            number = _number(label)
            if number is None or abs(number) > FLOAT32_MAX:
                raise refuse(
                    "target",
                    f"line {line}: column {column!r} holds {label[:40]!r}, but a regression "
                    "predicts finite numbers (within float32's range)",
                    'use "task": "classification", or choose a numeric target column',
                    found=label[:40],
                )
            rows.add(row, number, line)
        else:
            rows.add(row, label, line)
    rows.flush()
    if rows.count == 0:
        raise refuse("file", "the CSV needs a header row and at least one data row", "add them")
    return rows.table(column)


class _Rows:
    """Rows gathered a block at a time as text, then parsed by numpy into float32 (in C,
    twice as fast as ``float()`` a cell) and copied into a preallocated array; the array
    grows by half again if the count was short."""

    def __init__(self, bound: int, names: list[str], regression: bool, refuse: Any) -> None:
        self.count = 0
        self.names, self.regression, self.refuse = names, regression, refuse
        self.x = np.empty((max(bound, 1), len(names)), dtype=np.float32)
        self.y = np.empty(len(self.x), dtype=np.float32 if regression else np.int32)
        self.codes: dict[str, int] = {}
        self.cells: list[list[str]] = []
        self.labels: list[float | int] = []
        self.lines: list[int] = []

    def add(self, cells: list[str], label: str | float, line: int) -> None:
        self.cells.append(cells)
        if isinstance(label, str):
            label = self.codes.setdefault(label, len(self.codes))
        self.labels.append(label)
        self.lines.append(line)
        if len(self.cells) * len(cells) >= BLOCK_CELLS:
            self.flush()

    def flush(self) -> None:
        if not self.cells:
            return
        try:
            with np.errstate(over="ignore"):  # 1e39 becomes inf, refused below
                values = np.array(self.cells, dtype=np.float32)
        except ValueError:
            values = None
        if values is None or not np.isfinite(values).all():
            raise self._first_bad_cell()
        end = self.count + len(values)
        if end > len(self.x):
            size = max(end, len(self.x) + len(self.x) // 2)
            self.x.resize((size, self.x.shape[1]), refcheck=False)
            self.y.resize(size, refcheck=False)
        self.x[self.count : end] = values
        self.y[self.count : end] = self.labels
        self.count = end
        self.cells, self.labels, self.lines = [], [], []

    def _first_bad_cell(self) -> InvalidInput:
        for cells, line in zip(self.cells, self.lines, strict=True):
            for name, cell in zip(self.names, cells, strict=True):
                try:
                    number = float(cell)
                except ValueError:
                    why = "which is not a number"
                else:
                    if math.isfinite(number) and abs(number) <= FLOAT32_MAX:
                        continue
                    why = "which is not a finite number (within float32's range)"
                return self.refuse(
                    "file",
                    f"line {line}: column {name!r} holds {cell[:40]!r}, {why}",
                    "features must be finite numbers; encode categories as numbers "
                    "first, and fill in or drop missing (nan) and infinite values",
                    found=cell[:40],
                )
        return self.refuse(  # a number float() reads and numpy does not (other digits)
            "file",
            f"lines {self.lines[0]} to {self.lines[-1]} hold a value that is not a plain "
            "decimal number",
            "write numbers with the digits 0-9, a point and an optional exponent (1.5e-3)",
        )

    def table(self, target: str) -> Table:
        # In place: realloc gives the unused tail back without copying the rows.
        self.x.resize((self.count, self.x.shape[1]), refcheck=False)
        self.y.resize(self.count, refcheck=False)
        if self.regression:
            targets = self.y.reshape(-1, 1)
            return Table(self.x, np.empty(0, np.int32), [], targets, self.names, target)
        return Table(self.x, self.y, list(self.codes), np.empty((0, 1)), self.names, target)


def _scan(file: IO[bytes]) -> tuple[int, int]:
    """An upper bound on the file's lines, and its size, from a scan of its bytes (fast, in
    1 MiB chunks): lines end in LF, CR LF or a lone CR, so the larger count covers them all."""
    file.seek(0)
    lf = cr = size = 0
    while chunk := file.read(SCAN_CHUNK):
        lf += chunk.count(b"\n")
        cr += chunk.count(b"\r")
        size += len(chunk)
    return max(lf, cr) + 1, size


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _is_number(text: str) -> bool:
    return _number(text) is not None


def _csv_error(exc: csv.Error, line: int, refuse: Any) -> InvalidInput:
    if "field larger than field limit" in str(exc):
        limit = csv.field_size_limit()
        return refuse(
            "file",
            f"line {line} holds a cell longer than {limit:,} characters, the most a cell may hold",
            "a number needs a few dozen characters: check that this is the CSV you meant "
            "(comma-separated, quotes closed)",
        )
    return refuse("file", f"line {line} is not valid CSV ({exc})", "save the file as CSV")
