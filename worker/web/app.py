"""The web application: server-rendered pages, the JSON API under `/api/`, `/metrics` and
`/healthz`, all read-only, behind HTTP Basic auth (RFC 7617) except `/healthz`."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from worker.config import TopicSettings
from worker.web.desk import (
    AlertRow,
    Desk,
    DocumentDetail,
    DocumentPage,
    FeedRow,
    FigureHistory,
    FigurePoint,
    Health,
    TopicSummary,
    when,
)
from worker.web.metrics import registry_for

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PAGE_SIZE = 50
TABLE_ROWS = 100  # readings in a figure page's table at once
# Paths a load balancer or compose healthcheck may call without credentials.
OPEN_PATHS = frozenset({"/healthz"})


@dataclass(frozen=True)
class Credentials:
    """The one user of the web view, from the environment (never from a config file)."""

    user: str
    password: str

    def accept(self, header: bytes | None) -> bool:
        if not header or not header.lower().startswith(b"basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Both compared in constant time, so a timing difference tells nothing.
        user_ok = secrets.compare_digest(user.encode(), self.user.encode())
        password_ok = secrets.compare_digest(password.encode(), self.password.encode())
        return user_ok and password_ok


class BasicAuth:
    """Every request but those to `OPEN_PATHS` must carry the credentials."""

    def __init__(self, app: ASGIApp, credentials: Credentials) -> None:
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization")
        if self.credentials.accept(header):
            await self.app(scope, receive, send)
            return
        response = Response(
            "authentication required\n",
            status_code=401,
            media_type="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="newswatch", charset="UTF-8"'},
        )
        await response(scope, receive, send)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _reading(value: float, upper: float | None, qualifier: str) -> str:
    text = _number(value) + (f"–{_number(upper)}" if upper is not None else "")
    return text if qualifier == "exact" else f"{qualifier} {text}"


def _snippet(text: str | None) -> Markup:
    """A search hit's passage, escaped, with the matching words marked."""
    escaped = str(escape(text or ""))
    return Markup(escaped.replace("\x02", "<mark>").replace("\x03", "</mark>"))  # noqa: S704


def _chart_data(history: FigureHistory, link: str) -> Markup:
    """The points of a figure's chart, as JSON safe inside a <script> element."""
    data = {
        "label": history.figure.label,
        "link": link,
        "points": [
            {
                "t": p.time,
                "v": p.value,
                "u": p.upper,
                "c": p.confirmed,
                "q": p.qualifier,
                "s": p.document.source,
            }
            for p in history.points
        ],
    }
    text = json.dumps(data, ensure_ascii=False)
    # `</script>` or `<!--` in a quote would end the element: escape every `<`, `>`, `&`.
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)  # noqa: S704


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(number=_number, when=when, snippet=_snippet, chart_data=_chart_data)
    env.globals.update(reading=_reading)
    return env


def create_app(desk: Desk, credentials: Credentials) -> FastAPI:
    """The web view over `desk`; every path but `/healthz` behind `credentials`."""
    app = FastAPI(
        title="newswatch",
        summary="Read-only view of figures, alerts, feeds and the corpus.",
        version="1",
        openapi_url="/api/openapi.json",
        # The interactive documentation pages load their scripts from a CDN; the
        # OpenAPI document itself is enough, and nothing here reaches the internet.
        docs_url=None,
        redoc_url=None,
    )
    env = templates()
    registry = registry_for(desk)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(name: str, **context: Any) -> HTMLResponse:
        topics = [(t.id, t) for t in desk.config.topics.values()]
        return HTMLResponse(env.get_template(name).render(nav_topics=topics, **context))

    def topic_or_404(topic_id: str) -> TopicSettings:
        topic = desk.topic_settings(topic_id)
        if topic is None:
            raise HTTPException(404, f"no topic named {topic_id!r}")
        return topic

    def figure_or_404(topic: TopicSettings, figure_id: str) -> FigureHistory:
        if figure_id not in topic.figures:
            raise HTTPException(404, f"no figure named {figure_id!r} on {topic.id}")
        return desk.history(topic, figure_id)

    # -- pages -----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview() -> HTMLResponse:
        feeds = desk.feeds()
        return page(
            "overview.html",
            topics=desk.topics(),
            alerts=desk.alerts(10),
            feeds=feeds,
            failing=[f for f in feeds if f.consecutive_errors],
        )

    @app.get("/topics/{topic_id}", response_class=HTMLResponse, include_in_schema=False)
    def topic_page(topic_id: str) -> HTMLResponse:
        topic = topic_or_404(topic_id)
        desk.refresh_index(topic)
        return page(
            "topic.html",
            topic=topic,
            histories=desk.histories(topic),
            documents=desk.index.count(topic.id),
        )

    @app.get(
        "/topics/{topic_id}/figures/{figure_id}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def figure_page(
        topic_id: str,
        figure_id: str,
        around: Annotated[int | None, Query(ge=0, description="a reading's index")] = None,
    ) -> HTMLResponse:
        topic = topic_or_404(topic_id)
        history = figure_or_404(topic, figure_id)
        # The table shows a window of readings (the newest, or those around the one a
        # click on the chart asked for); the chart always shows every one.
        count = len(history.points)
        start = count - TABLE_ROWS if around is None else around - TABLE_ROWS // 2
        start = max(0, min(start, count - TABLE_ROWS))
        return page(
            "figure.html",
            topic=topic,
            history=history,
            start=start,
            end=min(count, start + TABLE_ROWS),
            window=TABLE_ROWS,
        )

    @app.get("/topics/{topic_id}/documents", response_class=HTMLResponse, include_in_schema=False)
    def corpus_page(
        topic_id: str,
        q: Annotated[str | None, Query(max_length=500)] = None,
        page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
    ) -> HTMLResponse:
        topic = topic_or_404(topic_id)
        listing = desk.documents(topic, q, PAGE_SIZE, (page_number - 1) * PAGE_SIZE)
        return page(
            "corpus.html",
            topic=topic,
            listing=listing,
            page_number=page_number,
            pages=max(1, -(-listing.total // PAGE_SIZE)),
        )

    @app.get(
        "/topics/{topic_id}/documents/{doc_id}",
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def document_page(topic_id: str, doc_id: str) -> HTMLResponse:
        topic = topic_or_404(topic_id)
        detail = desk.document(topic, doc_id)
        if detail is None:
            raise HTTPException(404, f"no document {doc_id} on {topic.id}")
        return page("document.html", topic=topic, detail=detail)

    @app.get("/alerts", response_class=HTMLResponse, include_in_schema=False)
    def alerts_page(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> HTMLResponse:
        return page("alerts.html", alerts=desk.alerts(limit))

    @app.get("/feeds", response_class=HTMLResponse, include_in_schema=False)
    def feeds_page() -> HTMLResponse:
        return page("feeds.html", feeds=desk.feeds())

    # -- the JSON API ------------------------------------------------------------------------
    @app.get("/api/topics", tags=["figures"])
    def api_topics() -> list[TopicSummary]:
        """Every topic with its document count and each figure's current value."""
        return desk.topics()

    @app.get("/api/topics/{topic_id}/figures", tags=["figures"])
    def api_figures(topic_id: str) -> list[FigureHistory]:
        """Each figure of a topic with every reading in its history, in time order."""
        return desk.histories(topic_or_404(topic_id))

    @app.get("/api/topics/{topic_id}/figures/{figure_id}", tags=["figures"])
    def api_figure(topic_id: str, figure_id: str) -> FigureHistory:
        """One figure's history: value, range, qualifier, quote, document, sources."""
        return figure_or_404(topic_or_404(topic_id), figure_id)

    @app.get("/api/topics/{topic_id}/documents", tags=["corpus"])
    def api_documents(
        topic_id: str,
        q: Annotated[str | None, Query(max_length=500, description="words, all required")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = PAGE_SIZE,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> DocumentPage:
        """A topic's documents, newest first, or those matching `q` (full text), best first."""
        return desk.documents(topic_or_404(topic_id), q, limit, offset)

    @app.get("/api/topics/{topic_id}/documents/{doc_id}", tags=["corpus"])
    def api_document(topic_id: str, doc_id: str) -> DocumentDetail:
        """A document: manifest lines, text, and the figures read from it."""
        topic = topic_or_404(topic_id)
        detail = desk.document(topic, doc_id)
        if detail is None:
            raise HTTPException(404, f"no document {doc_id} on {topic.id}")
        return detail

    @app.get("/api/alerts", tags=["alerts"])
    def api_alerts(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertRow]:
        """The alert log, newest first: each event with every channel's delivery state."""
        return desk.alerts(limit)

    @app.get("/api/feeds", tags=["feeds"])
    def api_feeds() -> list[FeedRow]:
        """Every configured feed: last success, next poll, errors, entries seen."""
        return desk.feeds()

    # -- operations --------------------------------------------------------------------------
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        """200 when Redis answers, 503 when it does not."""
        health: Health = desk.health()
        return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503)

    @app.exception_handler(Exception)
    def unavailable(request: Request, error: Exception) -> Response:
        # Redis away is the failure an operator can act on: say so, with 503, instead
        # of a bare 500 (anything else is logged and answered 500).
        health = desk.health()
        if health.redis is None:
            log.exception("%s %s failed", request.method, request.url.path)
            return Response("internal error\n", status_code=500, media_type="text/plain")
        log.warning("%s %s: Redis does not answer (%s)", request.method, request.url.path,
                    health.redis)  # fmt: skip
        return Response(
            f"newswatch: Redis does not answer ({health.redis})\n",
            status_code=503,
            media_type="text/plain",
            headers={"Retry-After": "10"},
        )

    app.add_middleware(BasicAuth, credentials=credentials)
    return app


__all__ = ["BasicAuth", "Credentials", "FigurePoint", "create_app"]
