"""Loopback servers for the demo (and the tests): a site serving feeds and pages, and a
webhook receiver that verifies each signature before accepting an event."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Response = tuple[int, dict[str, str], bytes]
Route = Callable[[BaseHTTPRequestHandler], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LoopbackServer:
    """An HTTP server on 127.0.0.1 whose answers are set per path (static or a function)."""

    def __init__(self, address: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.routes: dict[str, Response | Route] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                path = self.path.split("?", 1)[0]
                owner.requests.append((self.command, self.path, dict(self.headers)))
                route = owner.routes.get(path) or owner.routes.get(self.path)
                if route is None:
                    status, headers, body = 404, {"content-type": "text/plain"}, b"not found"
                elif callable(route):
                    status, headers, body = route(self)
                else:
                    status, headers, body = route
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "content-length" not in {k.lower() for k in headers}:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

        self._server = _Server(address, Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = (status, {"Content-Type": content_type, **(headers or {})}, data)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, tolerance: float = 300.0
) -> None:
    """Standard Webhooks verification; raises ValueError when the request is not authentic."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id", "")
    timestamp = lowered.get("webhook-timestamp", "")
    if not message_id or not timestamp.isdigit():
        raise ValueError("missing webhook-id or webhook-timestamp")
    if abs(time.time() - int(timestamp)) > tolerance:
        raise ValueError("timestamp outside the tolerance")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    offered = [
        s.split(",", 1)[1]
        for s in lowered.get("webhook-signature", "").split()
        if s.startswith("v1,")
    ]
    if not any(hmac.compare_digest(expected, o) for o in offered):
        raise ValueError("no matching signature")


class WebhookReceiver(LoopbackServer):
    """Accepts POSTed events at `/hook` whose signature verifies; records each one."""

    def __init__(
        self,
        verify: Callable[[bytes, dict[str, str]], Any],
        on_event: Callable[[dict[str, Any]], None] | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ) -> None:
        super().__init__(address)
        self.events: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.lock = threading.Lock()

        def hook(request: BaseHTTPRequestHandler) -> Response:
            length = int(request.headers.get("content-length") or 0)
            body = request.rfile.read(length)
            try:
                verify(body, dict(request.headers))
            except Exception as error:
                self.rejected.append(str(error))
                return 401, {}, b"bad signature"
            event = json.loads(body)
            with self.lock:
                self.events.append(event)
            if on_event:
                on_event(event)
            return 204, {}, b""

        self.routes["/hook"] = hook

    @property
    def url(self) -> str:
        return f"{self.base}/hook"
