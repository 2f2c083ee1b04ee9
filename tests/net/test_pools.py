"""Kept-alive connections per host: reused, bounded in all, never taken from an exchange."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from worker.net import FetchPolicy, fetch, make_client

http_module = importlib.import_module("worker.net.http")
OPEN = FetchPolicy(timeout=10, max_bytes=100_000, allow_private_networks=True)


class Site(ThreadingHTTPServer):
    """A loopback host that counts the connections made to it and those still open."""

    daemon_threads = True

    def __init__(self) -> None:
        self.opened = 0
        self.open = 0
        self.lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with site.lock:
                    site.opened += 1
                    site.open += 1

            def finish(self) -> None:
                super().finish()
                with site.lock:
                    site.open -= 1

            def do_GET(self) -> None:
                body = b"<html>" + b"x" * 2000 + b"</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/page"


@pytest.fixture
def sites() -> Iterator[list[Site]]:
    made = [Site() for _ in range(12)]
    yield made
    for site in made:
        site.shutdown()
        site.server_close()


def wait_until(condition, seconds: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    done = threading.Event()
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        done.wait(0.05)
    return bool(condition())


def test_a_host_s_connection_is_kept_while_many_other_hosts_are_fetched(
    sites: list[Site],
) -> None:
    first, others = sites[0], sites[1:]
    with make_client(OPEN) as client:
        for _ in range(3):
            assert fetch(client, first.url, OPEN).status == 200
            for site in others:
                assert fetch(client, site.url, OPEN).status == 200
    assert first.opened == 1
    assert all(site.opened == 1 for site in others)


def test_the_hosts_least_recently_used_are_let_go_past_the_kept_connections(
    sites: list[Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_module, "KEPT_CONNECTIONS", 4)
    with make_client(OPEN) as client:
        for site in sites:
            fetch(client, site.url, OPEN)
        # The first hosts' connections were closed to keep at most four.
        assert wait_until(lambda: sites[0].open == 0)
        assert sites[-1].open == 1
        assert sum(site.open for site in sites) <= 4
        fetch(client, sites[0].url, OPEN)
    assert sites[0].opened == 2  # let go, so connected again
    assert sites[-1].opened == 1


def test_a_host_with_an_exchange_under_way_is_not_let_go(
    sites: list[Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_module, "KEPT_CONNECTIONS", 2)
    first, others = sites[0], sites[1:]
    with make_client(OPEN) as client, client.stream("GET", first.url) as response:
        for site in others:
            fetch(client, site.url, OPEN)
        # Its response, started before every other host was fetched, still reads whole.
        assert response.read().startswith(b"<html>")
        assert first.open == 1
