import gzip
import importlib
import ipaddress
import time
import zlib
from http.server import BaseHTTPRequestHandler

import pytest

from worker.demo.servers import LoopbackServer
from worker.errors import (
    BlockedAddressError,
    DeadlineError,
    FetchError,
    HTTPStatusError,
    TooLargeError,
)
from worker.net import (
    FetchPolicy,
    Validators,
    check_url,
    fetch,
    is_public_address,
    make_client,
    retry_after_seconds,
)

fetch_module = importlib.import_module("worker.net.http")
OPEN = FetchPolicy(timeout=5, max_bytes=100_000, allow_private_networks=True)
CLOSED = FetchPolicy(timeout=5, max_bytes=100_000, allow_private_networks=False)


def get(url: str, policy: FetchPolicy = OPEN, validators: Validators | None = None):
    with make_client(policy) as client:
        return fetch(client, url, policy, validators)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("172.16.5.5", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("2002:7f00:1::", False),
        ("2002:5db8:d70e::", False),
        ("fec0::1", False),
        ("192.0.0.9", False),
        ("ff02::1", False),
        ("2001:4:112::1", False),
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# Every entry of the IANA special-purpose registries (IPv4 and IPv6), its first and its
# last address, plus multicast and deprecated site-local: none is globally routable.
SPECIAL_PURPOSE = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.0.0/29", "192.0.0.8/32", "192.0.0.9/32",
    "192.0.0.10/32", "192.0.0.170/31", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24",
    "192.88.99.0/24", "192.168.0.0/16", "192.175.48.0/24", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "224.0.0.0/4",
    "::1/128", "::/128", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64",
    "2001::/23", "2001::/32", "2001:1::1/128", "2001:1::2/128", "2001:1::3/128",
    "2001:2::/48", "2001:3::/32", "2001:4:112::/48", "2001:10::/28", "2001:20::/28",
    "2001:30::/28", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20", "5f00::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
]  # fmt: skip


@pytest.mark.parametrize("network", SPECIAL_PURPOSE)
def test_every_special_purpose_range_is_refused(network: str) -> None:
    block = ipaddress.ip_network(network)
    for address in (block[0], block[-1], block[block.num_addresses // 2]):
        assert is_public_address(str(address)) is False, address


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:a00:1::", "::ffff:192.0.0.9", "::7f00:1"],
)
def test_ipv6_forms_of_special_ipv4_addresses_are_refused(address: str) -> None:
    assert is_public_address(address) is False


def test_nat64_of_a_public_address_is_public() -> None:
    assert is_public_address("64:ff9b::5db8:d70e") is True  # 93.184.215.14


def test_a_site_local_ipv6_address_is_never_contacted() -> None:
    with pytest.raises(BlockedAddressError, match="fec0::1"):
        get("http://[fec0::1]:8080/feed", CLOSED)


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--a-.example/",
        "http://xn--a.example/feed",
        "http://xn--ls8h.la/",
        "data:text/html,<p>x</p>",
        "http:// .example/",
    ],
)
def test_urls_that_cannot_be_fetched_raise_newswatch_errors(url: str) -> None:
    with pytest.raises(FetchError):
        get(url, CLOSED)


def test_a_redirect_to_an_undecodable_host_is_a_fetch_error(site: LoopbackServer) -> None:
    site.serve("/start", b"", status=302, headers={"Location": "http://xn--a-.example/"})
    with pytest.raises(FetchError, match="A-label"):
        get(f"{site.base}/start")


def test_loopback_is_refused_by_default(site: LoopbackServer) -> None:
    site.serve("/feed", "<rss/>")
    with pytest.raises(BlockedAddressError):
        get(f"{site.base}/feed", CLOSED)
    assert site.requests == []  # refused before connecting


@pytest.mark.parametrize("host", ["localhost", "2130706433", "0x7f.1", "017700000001", "127.1"])
def test_names_and_numeric_forms_of_loopback_are_refused(site: LoopbackServer, host: str) -> None:
    port = site.base.rsplit(":", 1)[1]
    with pytest.raises(FetchError):
        get(f"http://{host}:{port}/feed", CLOSED)
    assert site.requests == []


def test_a_redirect_to_a_private_address_is_refused(
    site: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Treat 127.0.0.1 as "public" for this test, so the first hop is allowed and the
    # redirect to 127.0.0.2 (still private) is what the check must catch.
    monkeypatch.setattr(fetch_module, "is_public_address", lambda a: a == "127.0.0.1")
    port = site.base.rsplit(":", 1)[1]
    site.serve("/start", b"", status=302, headers={"Location": f"http://127.0.0.2:{port}/x"})
    with pytest.raises(BlockedAddressError, match="127.0.0.2"):
        get(f"{site.base}/start", CLOSED)
    assert [r[1] for r in site.requests] == ["/start"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://x.example/f",
        "gopher://x/",
        "http://x.example\\@evil.example/",
        "http://user:pw@x.example/",
        "http://exa mple.org/",
    ],
)
def test_only_plain_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchError):
        check_url(url)


def test_conditional_get_returns_not_modified(site: LoopbackServer) -> None:
    def answer(request: BaseHTTPRequestHandler):
        if request.headers.get("If-None-Match") == '"v1"':
            return 304, {"ETag": '"v1"'}, b""
        return 200, {"ETag": '"v1"', "Last-Modified": "Mon, 04 Nov 2024 01:00:00 GMT"}, b"<rss/>"

    site.routes["/feed"] = answer
    first = get(f"{site.base}/feed")
    assert first.status == 200 and first.validators.etag == '"v1"'
    second = get(f"{site.base}/feed", validators=first.validators)
    assert second.not_modified and second.body == b""
    assert site.requests[1][2]["If-Modified-Since"] == "Mon, 04 Nov 2024 01:00:00 GMT"


def test_permanent_redirect_reports_the_new_url(site: LoopbackServer) -> None:
    site.serve("/old", b"", status=301, headers={"Location": "/new"})
    site.serve("/new", "<rss/>")
    result = get(f"{site.base}/old")
    assert result.permanent_redirect == f"{site.base}/new"


def test_a_temporary_redirect_is_not_remembered(site: LoopbackServer) -> None:
    site.serve("/old", b"", status=302, headers={"Location": "/new"})
    site.serve("/new", "<rss/>")
    assert get(f"{site.base}/old").permanent_redirect is None


def test_redirect_loops_stop_at_the_limit(site: LoopbackServer) -> None:
    site.serve("/a", b"", status=302, headers={"Location": "/b"})
    site.serve("/b", b"", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirects"):
        get(f"{site.base}/a")
    assert len(site.requests) == OPEN.max_redirects + 1


def test_oversize_bodies_are_refused(site: LoopbackServer) -> None:
    site.serve("/big", b"x" * 200_000)
    with pytest.raises(TooLargeError):
        get(f"{site.base}/big")


def test_a_gzip_bomb_is_cut_at_the_limit_after_decompression(site: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # 49 KB on the wire
    site.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLargeError, match="decoded"):
        get(f"{site.base}/bomb")


def test_stacked_content_encodings_are_refused(site: LoopbackServer) -> None:
    body = gzip.compress(zlib.compress(b"<rss/>"))
    site.serve("/stacked", body, headers={"Content-Encoding": "deflate, gzip"})
    with pytest.raises(FetchError, match="stacked"):
        get(f"{site.base}/stacked")


def test_a_slow_drip_response_hits_the_total_deadline(site: LoopbackServer) -> None:
    def drip(request: BaseHTTPRequestHandler):
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(100):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.1)
        raise ConnectionError("stop")

    site.routes["/slow"] = drip
    policy = FetchPolicy(timeout=1.0, allow_private_networks=True)
    started = time.monotonic()
    with pytest.raises(DeadlineError):
        get(f"{site.base}/slow", policy)
    assert time.monotonic() - started < 5


def test_headers_dripping_hit_the_total_deadline(site: LoopbackServer) -> None:
    def drip(request: BaseHTTPRequestHandler):
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(200):
            request.wfile.write(f"X-Drip-{i}: x\r\n".encode())
            request.wfile.flush()
            time.sleep(0.1)
        raise ConnectionError("stop")

    site.routes["/drip-headers"] = drip
    policy = FetchPolicy(timeout=1.0, allow_private_networks=True)
    started = time.monotonic()
    with pytest.raises(DeadlineError, match="in all"):
        get(f"{site.base}/drip-headers", policy)
    assert time.monotonic() - started < 5


def test_a_deadline_spans_every_redirect(site: LoopbackServer) -> None:
    def slow_redirect(request: BaseHTTPRequestHandler):
        time.sleep(0.4)
        return 302, {"Location": "/slow-redirect"}, b""

    site.routes["/slow-redirect"] = slow_redirect
    policy = FetchPolicy(timeout=1.0, max_redirects=20, allow_private_networks=True)
    started = time.monotonic()
    with pytest.raises(DeadlineError):
        get(f"{site.base}/slow-redirect", policy)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [404, 429, 500, 503, 410])
def test_error_statuses_raise_with_retry_after(site: LoopbackServer, status: int) -> None:
    site.serve("/e", b"no", status=status, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatusError) as error:
        get(f"{site.base}/e")
    assert error.value.status == status
    assert error.value.retry_after == 120


def test_retry_after_http_date() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412420.0) == 60.0
    assert retry_after_seconds("soon") is None


def test_the_user_agent_is_honest(site: LoopbackServer) -> None:
    site.serve("/ua", "ok")
    get(f"{site.base}/ua", FetchPolicy(user_agent="newswatch/test", allow_private_networks=True))
    assert site.requests[0][2]["User-Agent"] == "newswatch/test"


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, counting the connections it is given."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def log_message(self, *args: object) -> None:
        pass

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/feed")
            body = b"<a href='/feed'>moved</a>"
        elif self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        else:
            self.send_response(200)
            self.send_header("ETag", '"v1"')
            body = b"<rss/>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_repolls_answered_304_keep_their_connection() -> None:
    from http.server import ThreadingHTTPServer
    from threading import Thread

    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with make_client(OPEN) as client:
            first = fetch(client, f"{url}/moved", OPEN)
            for _ in range(5):
                assert fetch(client, f"{url}/feed", OPEN, first.validators).not_modified
    finally:
        server.shutdown()
        server.server_close()
    assert _KeepAliveHandler.connections == 1


def test_a_resolver_that_never_answers_is_cut_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def stalled(*args, **kwargs):
        time.sleep(6)
        raise OSError("no answer")

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", stalled)
    started = time.monotonic()
    with pytest.raises(DeadlineError, match="in all"):
        get("http://slow-dns.example/feed", FetchPolicy(timeout=1.0, allow_private_networks=True))
    assert time.monotonic() - started < 4


def test_a_task_s_time_limit_is_not_taken_for_a_failed_download(
    site: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billiard.exceptions import SoftTimeLimitExceeded

    def out_of_time(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    site.serve("/feed", "<rss/>")
    monkeypatch.setattr(fetch_module, "_read_body", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        get(f"{site.base}/feed")
