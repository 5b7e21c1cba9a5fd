"""Both artifact stores keep a file whole under its key and say clearly when it is gone.

The S3 backend runs against a real S3 HTTP endpoint (moto's server mode) on loopback.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from descent.settings import Settings
from services.artifacts import ArtifactStore, LocalArtifactStore, get_store
from services.errors import NotFound
from tests.conftest import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


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
