"""The one safe way newswatch downloads anything: feeds, article pages, nothing else.

Rules enforced on every request:
- http and https only; no backslashes or credentials in URLs;
- the address actually connected to is checked (private, loopback, link-local, CGNAT,
  multicast, reserved, IPv4-mapped IPv6 and cloud-metadata addresses are refused unless
  `allow_private_networks`), after every redirect, which also closes DNS rebinding;
- redirects are followed by hand, up to a limit, each hop checked again;
- a total deadline per fetch (httpx's timeouts count inactivity, not total time);
- a size limit counted on the decoded body while streaming, and at most one
  Content-Encoding (httpx would decode stacked codings without a cap);
- conditional GET with ETag / Last-Modified (RFC 9110 §13.1); 304 means "not modified".
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx

from worker.errors import (
    BlockedAddressError,
    DeadlineError,
    FetchError,
    HTTPStatusError,
    TooLargeError,
)

_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT_REDIRECTS = {301, 308}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}


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


def is_metadata_address(address: str) -> bool:
    """Cloud instance-metadata endpoints: refused even when private networks are allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip in _METADATA


def is_public_address(address: str) -> bool:
    """True for an address newswatch may contact without `allow_private_networks`."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public_address(str(mapped))
        if ip.teredo is not None:
            return False
    if ip in _METADATA or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


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
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
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
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
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


def is_blocked(error: BaseException) -> bool:
    """True when an httpx error was caused by the address check (httpx wraps it)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, _Blocked):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def make_client(policy: FetchPolicy) -> httpx.Client:
    """An httpx client whose every connection goes through the address check."""
    transport = httpx.HTTPTransport(retries=0)
    # httpx offers no public hook for the network backend; the pool's is the one place
    # that sees the address actually connected to.
    transport._pool._network_backend = _GuardedBackend(policy.allow_private_networks)
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        timeout=httpx.Timeout(min(policy.timeout, 15.0), connect=min(policy.timeout, 10.0)),
        headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


def check_url(url: str) -> httpx.URL:
    """Parse a URL one way only; refuse what is not plain http(s)."""
    if "\\" in url or any(ord(c) < 0x21 for c in url):
        raise FetchError(url, "URL contains a backslash, a space or a control character")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise FetchError(url, f"invalid URL: {error}") from error
    if parsed.scheme not in ("http", "https"):
        raise FetchError(url, f"scheme {parsed.scheme!r} is not fetched (http and https only)")
    if not parsed.host:
        raise FetchError(url, "URL has no host")
    if parsed.userinfo:
        raise FetchError(url, "URL carries credentials")
    return parsed


def fetch(
    client: httpx.Client,
    url: str,
    policy: FetchPolicy,
    validators: Validators | None = None,
    *,
    accept: str = "*/*",
) -> FetchResult:
    """Download `url` under `policy`; raise a FetchError subclass saying what went wrong."""
    deadline = time.monotonic() + policy.timeout
    started = time.monotonic()
    current = url
    permanent: str | None = None
    only_permanent = True
    for _hop in range(policy.max_redirects + 1):
        target = check_url(current)
        headers = {"Accept": accept}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        try:
            with client.stream("GET", target, headers=headers) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    location = str(target.join(response.headers["location"]))
                    only_permanent &= response.status_code in _PERMANENT_REDIRECTS
                    if only_permanent:
                        permanent = location
                    current = location
                    continue
                if response.status_code == 304:
                    return FetchResult(
                        url,
                        current,
                        304,
                        b"",
                        dict(response.headers),
                        permanent,
                        time.monotonic() - started,
                        validators or Validators(),
                    )
                if response.status_code >= 400 or response.status_code < 200:
                    raise HTTPStatusError(
                        current,
                        response.status_code,
                        retry_after_seconds(response.headers.get("retry-after")),
                    )
                body = _read_body(response, current, policy, deadline)
                return FetchResult(
                    url,
                    current,
                    response.status_code,
                    body,
                    dict(response.headers),
                    permanent,
                    time.monotonic() - started,
                    Validators(response.headers.get("etag"), response.headers.get("last-modified")),
                )
        except httpx.TimeoutException as error:
            raise DeadlineError(current, f"timed out ({type(error).__name__})") from error
        except httpx.HTTPError as error:
            if is_blocked(error):
                raise BlockedAddressError(current, str(error)) from error
            raise FetchError(current, f"{type(error).__name__}: {error}") from error
    raise FetchError(url, f"more than {policy.max_redirects} redirects")


def _read_body(response: httpx.Response, url: str, policy: FetchPolicy, deadline: float) -> bytes:
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
            if time.monotonic() > deadline:
                raise DeadlineError(url, f"download took longer than {policy.timeout:g} s")
            chunks.append(chunk)
    except httpx.DecodingError as error:
        raise FetchError(url, f"cannot decode body: {error}") from error
    if time.monotonic() > deadline:
        raise DeadlineError(url, f"download took longer than {policy.timeout:g} s")
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
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
