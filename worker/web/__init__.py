"""The desk's web view (`newswatch web`): figures as charts, the alert log, feeds, the corpus
with full-text search, a JSON API, `/metrics` and `/healthz`. Read-only: it never writes
to the store or the corpus, only to its own search index under the data folder.
"""

from __future__ import annotations

from pathlib import Path

from worker.config import Config
from worker.store import Store, connect
from worker.web.app import Credentials, create_app
from worker.web.corpus_index import CorpusIndex
from worker.web.desk import Desk

__all__ = ["Credentials", "Desk", "create_app", "index_path", "make_desk", "serve"]


def index_path(config: Config) -> Path:
    return config.data_dir / "web" / "corpus-index.sqlite3"


def make_desk(config: Config, redis_url: str) -> Desk:
    return Desk(config, Store(connect(redis_url)), CorpusIndex(index_path(config)))


def serve(config: Config, redis_url: str, credentials: Credentials, host: str, port: int) -> None:
    """Run the web view until interrupted; the corpus index is brought up to date first."""
    import uvicorn

    desk = make_desk(config, redis_url)
    for topic in config.topics.values():
        desk.refresh_index(topic)
    uvicorn.run(
        create_app(desk, credentials),
        host=host,
        port=port,
        log_config=None,  # newswatch's logging (text or JSON) is already set up
        access_log=False,
        server_header=False,
    )
