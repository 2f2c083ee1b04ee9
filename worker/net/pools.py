"""Kept-alive connections, one small pool per origin (scheme, host, port).

httpcore's pool looks at every connection it holds, several times over, each time a
request starts or ends (an O(n²) pass in httpcore 1.0, and a poll() of every idle
socket): with one pool for every host a worker talks to, a few hundred kept connections
cost ~30 ms of CPU per request, more than reading the article. A pool per origin holds
what one host needs (a few connections) and is passed over by requests to the others.
The origins least recently used are let go (their idle connections closed) when too many
connections are kept in all.
"""

from __future__ import annotations

import ssl
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from types import TracebackType

import httpcore

Origin = tuple[bytes, bytes, int | None]


class OriginPools:
    """Behaves as one httpcore pool (what httpx's transport calls: `handle_request`,
    `close`) and sends each request through its origin's own pool.

    `kept` bounds the connections kept in all, counted when a new origin is taken up;
    each origin keeps at most `per_origin` idle ones. A pool is let go only while no
    request of its origin is under way, so no exchange loses its connection."""

    def __init__(
        self,
        backend: httpcore.NetworkBackend,
        ssl_context: ssl.SSLContext,
        *,
        kept: int,
        per_origin: int,
        keepalive_expiry: float,
    ) -> None:
        self._backend = backend
        self._ssl_context = ssl_context
        self._kept = kept
        self._per_origin = per_origin
        self._keepalive_expiry = keepalive_expiry
        self._pools: OrderedDict[Origin, httpcore.ConnectionPool] = OrderedDict()
        self._under_way: Counter[Origin] = Counter()
        self._lock = threading.Lock()

    @property
    def connections(self) -> int:
        """Connections held in all, kept idle or in use."""
        with self._lock:
            pools = list(self._pools.values())
        return sum(len(pool.connections) for pool in pools)

    @property
    def origins(self) -> list[Origin]:
        """The origins with a pool, least recently used first."""
        with self._lock:
            return list(self._pools)

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = (request.url.scheme, request.url.host, request.url.port)
        with self._lock:
            pool = self._pools.pop(origin, None)
            let_go = self._make_room() if pool is None else []
            if pool is None:
                pool = self._new_pool()
            self._pools[origin] = pool  # the most recently used last
            self._under_way[origin] += 1
        for old in let_go:
            old.close()
        try:
            response = pool.handle_request(request)
        except BaseException:
            self._done(origin)
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_Stream(response, lambda: self._done(origin)),
            extensions=response.extensions,
        )

    def _new_pool(self) -> httpcore.ConnectionPool:
        return httpcore.ConnectionPool(
            ssl_context=self._ssl_context,
            max_keepalive_connections=self._per_origin,
            keepalive_expiry=self._keepalive_expiry,
            retries=0,
            network_backend=self._backend,
        )

    def _make_room(self) -> list[httpcore.ConnectionPool]:
        """Under the lock, before a new origin's pool: the pools of the origins least
        recently used with nothing under way, taken out until fewer than `kept`
        connections are held in all (each counted once, here, not on every request)."""
        held = {origin: len(pool.connections) for origin, pool in self._pools.items()}
        total = sum(held.values())
        let_go = []
        for origin in list(self._pools):
            if total < self._kept:
                break
            if self._under_way[origin] == 0:
                let_go.append(self._pools.pop(origin))
                total -= held[origin]
        return let_go

    def _done(self, origin: Origin) -> None:
        with self._lock:
            self._under_way[origin] -= 1
            if self._under_way[origin] <= 0:
                del self._under_way[origin]

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()

    def __enter__(self) -> OriginPools:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None = None,
        error: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        self.close()


class _Stream:
    """A response body that says once, when closed, that its exchange is over."""

    def __init__(self, response: httpcore.Response, done: Callable[[], None]) -> None:
        self._response = response
        self._done = done
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_stream()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._response.close()
        finally:
            self._done()
