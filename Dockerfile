# newswatch: one image for the worker, poller, beat and flower services (docker-compose.yml).
#
# BASE is any Debian-based image with python3 (>= 3.11) and its venv module: the public
# image below by default; where no registry can be reached, a local one built from Debian
# packages (tests/compose/base-image.sh) with --build-arg BASE=localhost/debian-base:bookworm.
ARG BASE=python:3.11.11-slim-bookworm

# Build stage: the package and its dependencies go into a virtualenv under /opt/newswatch;
# only that folder reaches the final image (no pip cache, no build tree, no source copy).
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/newswatch
WORKDIR /src
# Dependencies first, from pyproject.toml alone (an empty package stands in for worker/),
# so a change to the code does not download and install them again.
COPY pyproject.toml README.md ./
RUN mkdir worker && touch worker/__init__.py && /opt/newswatch/bin/pip install . \
    && /opt/newswatch/bin/pip uninstall --yes newswatch
COPY worker ./worker
RUN /opt/newswatch/bin/pip install --no-deps . \
    # Not needed at run time: the installers, and the test suites numpy and scipy ship.
    && /opt/newswatch/bin/pip uninstall --yes pip setuptools \
    && find /opt/newswatch -type d -name tests \
        \( -path "*/site-packages/numpy/*" -o -path "*/site-packages/scipy/*" \) -prune \
        -exec rm -rf {} +

FROM ${BASE}
# The uid the services run as; match it to the owner of the host's corpus folder
# (docker compose passes NEWSWATCH_UID from .env).
ARG NEWSWATCH_UID=1000
# MALLOC_ARENA_MAX: at most two glibc heaps, not eight per CPU, for the poller's threads
# (as `newswatch run` sets it; worker/launcher.py says why).
ENV PATH=/opt/newswatch/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    NEWSWATCH_CONFIG_DIR=/app/config NEWSWATCH_DATA_DIR=/app/data MALLOC_ARENA_MAX=2
RUN useradd --create-home --uid "$NEWSWATCH_UID" newswatch \
    && mkdir -p /app/data/corpus && chown -R newswatch /app/data
COPY --from=build /opt/newswatch /opt/newswatch
WORKDIR /app
COPY config ./config
COPY seeds ./seeds

USER newswatch
CMD ["python", "-m", "worker.node", "worker", "--loglevel", "INFO"]
