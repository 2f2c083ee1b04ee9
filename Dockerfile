# newswatch: one image for worker, beat and flower (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NEWSWATCH_CONFIG_DIR=/app/config NEWSWATCH_DATA_DIR=/app/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
RUN pip install . && useradd --create-home --uid 1000 newswatch \
    && mkdir -p /app/data && chown newswatch /app/data
COPY config ./config
COPY seeds ./seeds

USER newswatch
CMD ["celery", "-A", "worker.celery_app", "worker", "--loglevel", "INFO", "-Q", "newswatch"]
