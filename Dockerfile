# CPU image for the API and CPU workers. The GPU worker image builds from the same file with
# --build-arg EXTRAS=gpu (TensorFlow's CUDA build); see docker-compose.yml.
FROM python:3.11-slim

ARG EXTRAS=worker
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DESCENT_HOME=/var/lib/descent \
    TF_CPP_MIN_LOG_LEVEL=2

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY core ./core
COPY descent ./descent
COPY models ./models
COPY processes ./processes
COPY serving ./serving
COPY services ./services
COPY training ./training
COPY workers ./workers
COPY migrations ./migrations
COPY web ./web
COPY data ./data
RUN pip install --upgrade pip && pip install -e ".[${EXTRAS}]"

# The state directory is the service user's alone (docs/security.md: file modes).
RUN useradd --create-home --uid 1000 descent && mkdir -p /var/lib/descent \
    && chown descent /var/lib/descent && chmod 700 /var/lib/descent
USER descent
EXPOSE 8000
CMD ["descent", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
