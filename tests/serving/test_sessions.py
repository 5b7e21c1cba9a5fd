"""The session cache: bounded, least recently used out first, one load per model however many
requests ask at once, and a clear 410 for a model file that is missing or unreadable."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import Gone
from serving.cards import ModelCard
from serving.errors import ModelFileGone
from serving.inputs import ModelInput
from serving.sessions import SessionCache
from tests.serving.onnx_models import INPUT_SHAPE, classifier

NAMES = tuple(str(d) for d in range(10))


def card(model_id: str, path: Path) -> ModelCard:
    return ModelCard(model_id, "classification", NAMES, ModelInput(INPUT_SHAPE), "x", path)


def test_the_least_recently_used_model_is_evicted_beyond_the_bound(tmp_path: Path):
    cache = SessionCache(max_size=2)
    paths = {m: classifier(tmp_path / f"{m}.onnx", seed=i) for i, m in enumerate("abc")}
    for model_id in "ab":
        cache.load(model_id, lambda m=model_id: card(m, paths[m]))
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.load("c", lambda: card("c", paths["c"]))
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None


def test_concurrent_requests_for_one_model_load_it_once(tmp_path: Path):
    cache = SessionCache(max_size=4)
    path = classifier(tmp_path / "m.onnx")
    described = []

    def describe() -> ModelCard:
        described.append(1)
        time.sleep(0.05)  # a slow database: the other requests arrive meanwhile
        return card("m", path)

    loaded = []
    threads = [
        threading.Thread(target=lambda: loaded.append(cache.load("m", describe))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(described) == 1
    assert len({id(model) for model in loaded}) == 1


def test_the_hook_hears_one_miss_per_load_and_a_hit_for_each_request_that_waited(
    tmp_path: Path,
):
    """What the API counts as descent_model_cache_total: eight requests at once for a model not
    loaded are one miss (the load) and seven hits (they waited for it); full, it evicts."""
    heard: list[str] = []
    cache = SessionCache(max_size=1, on_event=heard.append)
    path = classifier(tmp_path / "m.onnx")

    def describe() -> ModelCard:
        time.sleep(0.05)
        return card("m", path)

    threads = [threading.Thread(target=cache.load, args=("m", describe)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(heard) == ["hit"] * 7 + ["miss"]
    heard.clear()
    cache.load("n", lambda: card("n", path))
    assert heard == ["miss", "eviction"]


def test_a_shared_session_answers_many_threads_at_once(tmp_path: Path):
    cache = SessionCache(max_size=1)
    model = cache.load("m", lambda: card("m", classifier(tmp_path / "m.onnx")))
    batches = [np.random.default_rng(i).random((16, *INPUT_SHAPE), np.float32) for i in range(8)]
    expected = [model.onnx.run(batch) for batch in batches]
    results: dict[int, np.ndarray] = {}

    def run(i: int) -> None:
        for _ in range(20):
            results[i] = model.onnx.run(batches[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, batch_expected in enumerate(expected):
        np.testing.assert_array_equal(results[i], batch_expected)


def test_an_unreadable_model_file_is_a_410_and_is_not_cached(tmp_path: Path):
    cache = SessionCache(max_size=2)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an ONNX model")
    with pytest.raises(ModelFileGone, match="cannot be loaded") as raised:
        cache.load("m", lambda: card("m", broken))
    assert isinstance(raised.value, Gone)  # the API answers it with a 410
    assert "retrain" in raised.value.fix
    assert cache.get("m") is None


def test_a_cached_model_knows_when_its_file_is_gone(tmp_path: Path):
    cache = SessionCache(max_size=2)
    path = classifier(tmp_path / "m.onnx")
    model = cache.load("m", lambda: card("m", path))
    assert model.file_present()
    path.unlink()
    assert not model.file_present()
