"""The one safe way newswatch talks HTTP: feeds, article pages and webhooks.

Rules enforced on every exchange:
- http and https only; no backslashes, control characters or credentials in URLs;
- the address actually connected to is checked (`worker.net.addresses`), after every
  redirect, which also closes DNS rebinding;
- redirects are followed by hand, up to a limit, each hop checked again;
- one deadline from resolving the host to the last byte: every lookup and socket
  operation waits at most what is left of it (httpx's timeouts count inactivity, so a
  server dripping its headers or body a byte at a time would otherwise hold a worker);
- a size limit counted on the decoded body while streaming, and at most one
  Content-Encoding (httpx would decode stacked codings without a cap);
- conditional GET with ETag / Last-Modified (RFC 9110 §13.1); 304 means "not modified".
Only newswatch's own errors (`worker.errors.FetchError` and kin) leave this module.
"""

from __future__ import annotations

import contextvars
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import httpcore
import httpx

from worker.errors import (
    BlockedAddressError,
    DeadlineError,
    FetchError,
    HTTPStatusError,
    TooLargeError,
)
from worker.net.addresses import is_metadata_address, is_public_address
from worker.net.pools import OriginPools

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}

# The monotonic time by which the exchange under way in this thread must be over.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "newswatch_deadline", default=None
)


@dataclass(frozen=True)
class FetchPolicy:
    """Limits applied to every download."""

    timeout: float = 30.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = "newswatch/0.1"
    allow_private_networks: bool = False


@dataclass(frozen=True)
class Validators:
    """What the server said last time, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A completed download (or a 304)."""

    url: str
    final_url: str
    status: int
    body: bytes
    headers: dict[str, str]
    permanent_redirect: str | None = None
    elapsed: float = 0.0
    validators: Validators = field(default_factory=Validators)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Reply:
    """A server's answer to a POST: its status and headers; the body is never read."""

    status: int
    headers: dict[str, str]


def _remaining(timeout: float | None) -> float | None:
    """`timeout` cut to what is left of the exchange's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise _PastDeadline("the total deadline has passed")
    return left if timeout is None else min(timeout, left)


class _PastDeadline(httpcore.ReadTimeout):
    """Raised inside httpcore when the exchange's deadline has passed."""


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout))
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


_resolvers: dict[int, ThreadPoolExecutor] = {}


def _resolve(host: str, port: int, timeout: float | None) -> list[Any]:
    """getaddrinfo within the deadline: a resolver that never answers costs a thread of a
    small pool (per process, so a forked worker gets its own), not the exchange."""
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    try:
        if literal:
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        pool = _resolvers.get(os.getpid())
        if pool is None:
            pool = _resolvers[os.getpid()] = ThreadPoolExecutor(8, "newswatch-resolver")
        future = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        return future.result(timeout=timeout)
    except FutureTimeout as error:
        raise _PastDeadline(f"resolving {host} took longer than the deadline") from error
    except (OSError, UnicodeError) as error:
        raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves the host itself and connects only to addresses that pass the check."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        infos = _resolve(host, port, _remaining(timeout))
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [
            a
            for a in addresses
            if is_public_address(a) or (self._allow_private and not is_metadata_address(a))
        ]
        if not allowed:
            raise _Blocked(f"{host} resolves to {', '.join(addresses)}, a non-public address")
        last_error: Exception | None = None
        for address in allowed:
            try:
                stream = self._inner.connect_tcp(
                    address, port, _remaining(timeout), local_address, socket_options
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise _Blocked("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _Blocked(httpcore.ConnectError):
    """Raised inside httpcore so the pool cleans up; turned into BlockedAddressError."""


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def is_blocked(error: BaseException) -> bool:
    """True when an httpx error was caused by the address check (httpx wraps it)."""
    return _caused_by(error, _Blocked)


# Connections a worker process keeps open for the next request to their host (in all, and
# idle ones per host), and for how long (seconds).
KEPT_CONNECTIONS = 512
KEPT_PER_HOST = 16
KEEPALIVE_EXPIRY = 120.0


def make_client(policy: FetchPolicy) -> httpx.Client:
    """An httpx client whose every connection goes through the address check."""
    # httpx keeps 20 idle connections by default: polling more hosts than that, every
    # repoll found its host's connection evicted and opened (and, over TLS, shook hands
    # for) a new one. Servers close what they do not want kept. One pool per host
    # (`OriginPools`): httpcore's single pool costs CPU in the number of connections.
    ssl_context = httpx.create_ssl_context()
    transport = httpx.HTTPTransport(verify=ssl_context, retries=0)
    # httpx offers no public hook for the pool or its network backend; the backend is the
    # one place that sees the address actually connected to, and every socket operation.
    pools = OriginPools(
        _GuardedBackend(policy.allow_private_networks),
        ssl_context,
        kept=KEPT_CONNECTIONS,
        per_origin=KEPT_PER_HOST,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    transport._pool = pools  # type: ignore[assignment]
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(policy.timeout),
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def check_url(url: str) -> httpx.URL:
    """Parse a URL one way only; refuse what is not plain http(s)."""
    if "\\" in url or any(ord(c) < 0x21 or 0x7F <= ord(c) < 0xA0 for c in url):
        raise FetchError(url, "URL contains a backslash, a space or a control character")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as error:  # IDNA errors are ValueErrors
        raise FetchError(url, f"invalid URL: {error}") from error
    if parsed.scheme not in ("http", "https"):
        raise FetchError(url, f"scheme {parsed.scheme!r} is not fetched (http and https only)")
    if not parsed.host:
        raise FetchError(url, "URL has no host")
    if parsed.userinfo:
        raise FetchError(url, "URL carries credentials")
    return parsed


_PROVOKED = (OSError, ValueError, LookupError, httpx.InvalidURL, httpx.StreamError)


@dataclass
class Exchange:
    """One exchange under a deadline; `url` is the hop under way, named in errors."""

    url: str
    until: float


@contextmanager
def exchange(url: str, seconds: float) -> Iterator[Exchange]:
    """One deadline for everything inside; httpx and socket errors become FetchErrors."""
    current = Exchange(url, time.monotonic() + seconds)
    token = _deadline.set(current.until)
    try:
        yield current
    except httpx.TimeoutException as error:
        if time.monotonic() >= current.until or _caused_by(error, _PastDeadline):
            raise DeadlineError(current.url, f"took longer than {seconds:g} s in all") from error
        raise DeadlineError(current.url, f"timed out ({type(error).__name__})") from error
    except httpx.HTTPError as error:
        if is_blocked(error):
            raise BlockedAddressError(current.url, str(error)) from error
        raise FetchError(current.url, f"{type(error).__name__}: {error}") from error
    except _PROVOKED as error:
        # What else a hostile server or URL can provoke (an IDNA label that does not
        # decode, a redirect httpx cannot parse, a header that is not Latin-1…) is a
        # failed download the caller records, never a crash. Other exceptions (a task's
        # soft time limit among them) go through untouched.
        raise FetchError(current.url, f"{type(error).__name__}: {error}") from error
    finally:
        _deadline.reset(token)


def fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    validators: Validators | None = None,
    *,
    accept: str = "*/*",
) -> FetchResult:
    """Download `url` under `policy`; raise a FetchError subclass saying what went wrong."""
    started = time.monotonic()
    permanent: str | None = None
    only_permanent = True
    with exchange(url, policy.timeout) as hop:
        for _hop in range(policy.max_redirects + 1):
            target = check_url(hop.url)
            headers = {"Accept": accept}
            if validators and validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators and validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
            with client.stream("GET", target, headers=headers) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    _release(response)
                    location = urljoin(str(target), response.headers["location"])
                    only_permanent &= response.status_code in _PERMANENT_REDIRECTS
                    if only_permanent:
                        permanent = location
                    hop.url = location
                    continue
                if response.status_code == 304:
                    _release(response)
                    return FetchResult(
                        url,
                        hop.url,
                        304,
                        b"",
                        dict(response.headers),
                        permanent,
                        time.monotonic() - started,
                        validators or Validators(),
                    )
                if response.status_code >= 400 or response.status_code < 200:
                    _release(response)
                    raise HTTPStatusError(
                        hop.url,
                        response.status_code,
                        retry_after_seconds(response.headers.get("retry-after")),
                    )
                body = _read_body(response, hop.url, policy)
                return FetchResult(
                    url,
                    hop.url,
                    response.status_code,
                    body,
                    dict(response.headers),
                    permanent,
                    time.monotonic() - started,
                    Validators(response.headers.get("etag"), response.headers.get("last-modified")),
                )
    raise FetchError(url, f"more than {policy.max_redirects} redirects")


def post(
    client: httpx.Client,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
) -> Reply:
    """POST `body` once (no redirect followed), all of it within `timeout` seconds.

    The reply's body is never read: a receiver answering with gigabytes costs nothing.
    """
    target = check_url(url)
    with (
        exchange(url, timeout),
        client.stream("POST", target, content=body, headers=dict(headers)) as response,
    ):
        return Reply(response.status_code, dict(response.headers))


# The largest unread body read to the end so its connection is kept for the next request.
_RELEASE_LIMIT = 64 * 1024


def _release(response: httpx.Response) -> None:
    """Read the rest of a response newswatch does not use (a 304, a redirect, an error
    page) when it is small, so its connection goes back to the pool instead of being
    closed: otherwise every repoll of a host pays a new connection (and TLS handshake)."""
    declared = response.headers.get("content-length", "")
    if response.status_code != 304 and not (declared.isdigit() and int(declared) <= _RELEASE_LIMIT):
        return  # unknown or large: closing costs less than reading
    with suppress(httpx.HTTPError):
        for _ in response.iter_raw():
            pass


def _read_body(response: httpx.Response, url: str, policy: FetchPolicy) -> bytes:
    codings = [
        c.strip().lower()
        for c in response.headers.get("content-encoding", "").split(",")
        if c.strip() and c.strip().lower() != "identity"
    ]
    if len(codings) > 1:
        raise FetchError(url, f"stacked Content-Encoding ({', '.join(codings)}) is refused")
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and not codings and int(declared) > policy.max_bytes:
        raise TooLargeError(url, f"Content-Length {declared} exceeds {policy.max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > policy.max_bytes:
                raise TooLargeError(url, f"body exceeds {policy.max_bytes} bytes (decoded)")
            chunks.append(chunk)
    except httpx.DecodingError as error:
        raise FetchError(url, f"cannot decode body: {error}") from error
    return b"".join(chunks)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date, RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
