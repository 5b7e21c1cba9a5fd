"""Read a Server-Sent Events stream line by line, as the HTML standard says a browser does."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int | None  # what to send back as Last-Event-ID to resume after this event
    kind: str
    data: Any


def parse(lines: Iterable[str]) -> Iterator[Event]:
    """Events from the stream's lines (without their line breaks); comments (the server's
    keep-alive pings) are skipped, and an event whose data is not JSON is kept as text."""
    data: list[str] = []
    kind, last_id = "", None
    for line in lines:
        if line == "":
            if data:
                text = "\n".join(data)
                try:
                    value = json.loads(text)
                except ValueError:
                    value = text
                yield Event(last_id, kind or "message", value)
            data, kind = [], ""
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            kind = value
        elif name == "id" and value.isdigit():
            last_id = int(value)
