"""Both artifact stores keep a file whole under its key and say clearly when it is gone.

The S3 backend runs against a real S3 HTTP endpoint (moto's server mode) on loopback.
"""

from pathlib import Path

import pytest

from core.errors import NotFound
from core.settings import Settings
from services.artifacts import ArtifactStore, LocalArtifactStore, S3ArtifactStore, get_store


def s3_store(endpoint: str, home: Path, bucket: str = "models") -> ArtifactStore:
    settings = Settings(
        home=home,
        artifact_store="s3",
        s3_bucket=bucket,
        s3_prefix="descent",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )
    import boto3

    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=bucket)
    return get_store(settings)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    return s3_store(request.getfixturevalue("s3_endpoint"), tmp_path / "home")


def test_a_stored_file_comes_back_whole(store: ArtifactStore, tmp_path: Path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"\x08\x01onnx-bytes" * 1000)
    key = store.put_file("job1/model.onnx", source)
    assert store.local_path(key).read_bytes() == source.read_bytes()


def test_a_missing_file_is_not_found_with_a_fix(store: ArtifactStore):
    with pytest.raises(NotFound, match="missing from the artifact store") as caught:
        store.local_path("nobody/model.onnx")
    assert "retrain" in (caught.value.fix or "")


def test_a_key_cannot_escape_the_store(tmp_path: Path):
    with pytest.raises(ValueError, match="escapes"):
        LocalArtifactStore(tmp_path).put_file("../outside", tmp_path / "x")


def test_another_host_reads_what_one_host_wrote(s3_endpoint: str, tmp_path: Path):
    writer = s3_store(s3_endpoint, tmp_path / "host-a", bucket="shared")
    reader = s3_store(s3_endpoint, tmp_path / "host-b", bucket="shared")
    source = tmp_path / "model.keras"
    source.write_bytes(b"weights")
    writer.put_file("job2/model.keras", source)
    assert reader.local_path("job2/model.keras").read_bytes() == b"weights"


def test_s3_without_a_bucket_is_refused_at_start():
    with pytest.raises(ValueError, match="DESCENT_S3_BUCKET"):
        Settings(artifact_store="s3")


def put(store: ArtifactStore, tmp_path: Path, *keys: str) -> None:
    source = tmp_path / "bytes"
    source.write_bytes(b"checkpoint")
    for key in keys:
        store.put_file(key, source)


def assert_gone(store: ArtifactStore, *keys: str) -> None:
    for key in keys:
        with pytest.raises(NotFound):
            store.local_path(key)


def test_deleting_a_key_removes_that_file_only(store: ArtifactStore, tmp_path: Path):
    put(store, tmp_path, "job1/model.onnx", "job1/model.keras")
    store.local_path("job1/model.onnx")  # an S3 host now holds a local copy too
    assert store.delete("job1/model.onnx") == 1
    assert_gone(store, "job1/model.onnx")
    assert store.local_path("job1/model.keras").read_bytes() == b"checkpoint"


def test_deleting_a_folder_removes_every_file_under_it_and_nothing_beside_it(
    store: ArtifactStore, tmp_path: Path
):
    inside = [f"job1/checkpoint/epoch-{epoch:04d}.{ext}" for epoch in (1, 2) for ext in "ab"]
    beside = ["job1/model.keras", "job1/checkpoint-notes", "job10/checkpoint/epoch-0001.a"]
    put(store, tmp_path, *inside, *beside)
    store.local_path(inside[0])
    assert store.delete("job1/checkpoint/") == 4
    assert_gone(store, *inside)
    for key in beside:
        assert store.local_path(key).read_bytes() == b"checkpoint"
    assert store.delete("job1/checkpoint") == 0  # already gone: nothing to do, no error


def test_a_local_folder_emptied_by_a_delete_goes_with_it(tmp_path: Path):
    store = LocalArtifactStore(tmp_path / "artifacts")
    put(store, tmp_path, "datasets/abc/data.npz", "datasets/keep/data.npz")
    assert store.delete("datasets/abc/data.npz") == 1
    assert not (tmp_path / "artifacts" / "datasets" / "abc").exists()
    assert (tmp_path / "artifacts" / "datasets" / "keep" / "data.npz").is_file()


def test_a_delete_cannot_take_the_whole_store_or_escape_it(store: ArtifactStore, tmp_path: Path):
    put(store, tmp_path, "job1/model.onnx")
    for key in ("", "/", ".", "job1/.."):
        with pytest.raises(ValueError):
            store.delete(key)
    with pytest.raises(ValueError, match="escapes"):
        store.delete("../outside")
    assert store.local_path("job1/model.onnx").read_bytes() == b"checkpoint"


def test_an_s3_folder_larger_than_a_listing_page_is_deleted_whole(s3_endpoint: str, tmp_path: Path):
    store = s3_store(s3_endpoint, tmp_path / "home", bucket="paged")
    assert isinstance(store, S3ArtifactStore)
    store.page_size = 3  # S3 lists at most 1000 a page; 3 makes 7 objects take 3 pages
    keys = [f"job1/checkpoint/epoch-{epoch:04d}.keras" for epoch in range(7)]
    put(store, tmp_path, *keys, "job1/model.onnx")
    assert store.delete("job1/checkpoint") == 7
    assert_gone(store, *keys)
    assert store.local_path("job1/model.onnx").read_bytes() == b"checkpoint"
