"""The one place configuration is read: environment variables prefixed ``DESCENT_``.

Each process entry point (the app factory, the worker boot, the CLI, migrations) builds
``Settings()`` once and passes it down; nothing below reads a global."""

import json
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# What a browser sends as Origin: a scheme, a host and maybe a port; nothing after.
ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s]+")


class Settings(BaseSettings):
    """Defaults give the embedded mode: SQLite, a SQLite-backed broker and local artifacts."""

    model_config = SettingsConfigDict(env_prefix="DESCENT_", extra="ignore")

    home: Path = Field(
        default=Path("var"), description="State directory: database, broker, artifacts."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default a SQLite file under home."
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker URL; default kombu's SQLAlchemy transport on SQLite.",
    )
    broker_key_prefix: str = Field(
        default="",
        description="Redis only: a prefix for every key the broker writes, so that several "
        "deployments (or test runs) can share one Redis database without taking each "
        "other's jobs.",
    )
    artifacts_dir: Path | None = Field(
        default=None, description="Where trained models are stored; default home/artifacts."
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / "data", description="Folder holding mnist.npz and sign_mnist.npz."
    )
    artifact_store: Literal["local", "s3"] = Field(
        default="local", description="local: artifacts_dir; s3: a bucket every host shares."
    )
    s3_bucket: str = Field(default="", description="s3 store: the bucket (required then).")
    s3_prefix: str = Field(default="", description="Key prefix inside the bucket.")
    s3_endpoint_url: str | None = Field(
        default=None, description="For S3-compatible stores such as MinIO; unset for AWS."
    )
    s3_region: str | None = Field(default=None, description="s3 store: the region, if needed.")
    s3_access_key_id: str | None = Field(
        default=None, description="s3 store: key id; unset to use boto3's usual credentials."
    )
    s3_secret_access_key: str | None = Field(
        default=None, description="s3 store: the secret that goes with s3_access_key_id."
    )
    job_time_limit_seconds: int = Field(
        default=6 * 3600,
        ge=1,
        description="The longest a training job may run, wall clock, over all its attempts.",
    )
    max_attempts: int = Field(
        default=3, ge=1, description="Times a job is started before a dying worker fails it."
    )
    heartbeat_seconds: float = Field(
        default=10, gt=0, description="How often a worker training a job says it is alive."
    )
    heartbeat_timeout_seconds: float = Field(
        default=90,
        gt=0,
        description="A running job whose worker has been silent this long is resumed elsewhere.",
    )
    resend_after_seconds: float = Field(
        default=900,
        gt=0,
        description="A job queued this long since its message was sent gets its message again.",
    )
    sweep: bool = Field(
        default=True,
        description="Run the recovery sweep (api/sweeper.py) in the API process; several API "
        "processes may all sweep, so turn it off only where another process does.",
    )
    reconcile_seconds: float = Field(
        default=10, gt=0, description="How often the API sweeps for jobs to recover."
    )
    max_body_bytes: int = Field(
        default=1 * 2**20,
        ge=1024,
        description="Largest request body for routes other than prediction, in bytes.",
    )
    auth: Literal["off", "required"] = Field(
        default="off",
        description="required: every /v1 request needs `Authorization: Bearer <key>`; off: "
        'no keys, everything belongs to the built-in owner "local" (loopback only).',
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Web origins (`scheme://host[:port]`, comma-separated) whose pages may "
        "call the API from a browser, event stream and API key included; `*` allows any. "
        "Empty: no CORS headers, so browsers keep other origins out. See docs/api.md.",
    )
    allow_open_network: bool = Field(
        default=False,
        description="Let the server run with auth off on a non-loopback address (unsafe).",
    )
    gpu_queues_available: bool = Field(
        default=False,
        description="Some worker consumes the gpu queue: accept accelerator=gpu and "
        "mixed_float16 jobs.",
    )
    host: str = Field(
        default="127.0.0.1", description="Address the server binds (`descent serve --host`)."
    )
    port: int = Field(default=8000, description="Port the server binds (`descent serve --port`).")
    worker_metrics_port: int = Field(
        default=9101,
        ge=0,
        le=65535,
        description="Port a training worker serves its Prometheus metrics on (any path, "
        "e.g. /metrics); 0: not served. Each worker on one host needs its own "
        "(docs/operations.md: Worker metrics).",
    )
    worker_metrics_host: str = Field(
        default="0.0.0.0",  # Prometheus scrapes workers from another host or container
        description="Address a worker's metrics port binds; `descent serve` gives its "
        "worker the server's own host.",
    )
    max_instances_per_request: int = Field(
        default=10_000, ge=1, description="Most instances (images) one prediction request holds."
    )
    max_request_bytes: int = Field(
        default=64 * 2**20, ge=1024, description="Largest prediction request body, in bytes."
    )
    max_image_pixels: int = Field(
        default=40_000_000,
        ge=1,
        le=89_000_000,  # Pillow's own decompression-bomb threshold; ours must be the tighter one
        description="Largest image accepted for prediction, in pixels (width × height).",
    )
    max_request_pixels: int = Field(
        default=200_000_000,
        ge=1,
        description="Most pixels the images of one prediction request may hold in all.",
    )
    model_cache_size: int = Field(default=8, ge=1, description="ONNX sessions kept in memory.")
    access_log: bool = Field(
        default=True,
        description="Log every request; off, a busy prediction server answers 10-20% more.",
    )
    log_format: Literal["console", "json"] = Field(
        default="console",
        description="console: lines for a person at a terminal; json: one JSON object a line, "
        "for a log collector (docs/operations.md: Logs).",
    )
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics at GET /metrics (asks no key: keep it off the "
        "public side of the proxy); false: no /metrics and nothing counted "
        "(docs/operations.md: Metrics).",
    )
    onnx_threads: int = Field(
        default=1,
        ge=0,
        description="Threads ONNX Runtime uses inside one prediction (0: one per core).",
    )
    overfitting_patience: int = Field(
        default=2,
        ge=1,
        description="Epochs of rising val_loss, while loss falls, that flag overfitting.",
    )
    events_poll_seconds: float = Field(
        default=0.2, gt=0, le=5, description="How often an event stream looks for new events."
    )
    max_streams_per_owner: int = Field(
        default=20,
        ge=0,
        description="Most event streams one owner (one API key's owner) may hold open on one "
        "API process; another is a 429. 0: no limit (docs/security.md).",
    )
    # What `descent serve` holds a connection to (processes/http.py, docs/security.md).
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="A connection whose request headers are not all in this long after it "
        "opened (or after its request began) is closed.",
    )
    body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="A request body that sends nothing for this long is cut off (the time "
        "between two reads, as nginx's client_body_timeout).",
    )
    keep_alive_seconds: float = Field(
        default=5, gt=0, description="An idle keep-alive connection is closed after this long."
    )
    max_connections: int = Field(
        default=4096,
        ge=0,
        description="Most connections one API process holds open (streams included); one "
        "more is closed at once. Lowered to fit the open-file limit; 0: only that limit.",
    )
    # Caps on one job's spec, checked at submission.
    max_layers: int = Field(default=64, ge=1, description="Most layers in a job's model.")
    max_params: int = Field(default=10_000_000, ge=1, description="Most parameters in a model.")
    max_epochs: int = Field(default=1_000, ge=1, description="Most epochs a job may train.")
    max_batch_size: int = Field(default=65_536, ge=1, description="Largest batch_size.")
    max_activation_bytes: int = Field(
        default=4 * 2**30,
        ge=1,
        description="Most memory one training batch's activations may need (estimated at "
        "submission from the layers' output shapes × batch_size); above it a job is refused "
        'with "lower batch_size to N".',
    )
    max_concurrent_image_decodes: int = Field(
        default=4,
        ge=1,
        description="Images one API process decodes at once (for prediction); more wait their "
        "turn, so that many large images cannot add up in memory.",
    )
    max_weights_params: int = Field(
        default=100_000,
        ge=0,
        description="Largest model whose trained weights are stored and served as JSON.",
    )
    max_upload_bytes: int = Field(
        default=50_000_000, ge=1, description="Largest data set upload (CSV or JSON body)."
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins_from_a_list(cls, value: object) -> object:
        # The environment gives "https://a.example, https://b.example" (or a JSON array);
        # browsers send origins in lower case.
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else text.split(",")
        if isinstance(value, list):
            value = [item.strip().lower() if isinstance(item, str) else item for item in value]
            return [item for item in value if item != ""]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"DESCENT_CORS_ORIGINS: {origin!r} is not an origin; write "
                    "scheme://host[:port] with no path or trailing slash, e.g. "
                    "https://app.example.com or http://localhost:5173"
                )
        return origins

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "Settings":
        if self.artifact_store == "s3" and not self.s3_bucket:
            raise ValueError("DESCENT_ARTIFACT_STORE=s3 needs DESCENT_S3_BUCKET")
        return self

    @property
    def resolved_home(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_home / 'descent.db'}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.resolved_home / 'broker.db'}"

    @property
    def resolved_artifacts_dir(self) -> Path:
        return (self.artifacts_dir or self.resolved_home / "artifacts").expanduser().resolve()
