"""docker-compose.yml run for real: images built, every service healthy, a feed served to
the stack end to end, then the worker container SIGKILLed and Redis restarted mid-run.

Needs podman, podman-compose and runc, run as root (../shared/CONTAINERS.md; `make
compose-test` prints each step). Skipped where they are absent. The project is a copy of
this checkout's deployment files in a temporary folder with its own .env and config; the
feed, the pages and the webhook receiver listen on the compose network's gateway, an
address of this machine only, which the stack's config allows (allow_private_networks).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.support import ROOT
from worker.demo.servers import LoopbackServer
from worker.store.embedded import free_port

pytestmark = [
    pytest.mark.compose,
    pytest.mark.integration,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("podman", "podman-compose", "runc")),
        reason="podman, podman-compose and runc are needed (../shared/CONTAINERS.md)",
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="the compose test runs podman as root"),
]

BASE_IMAGE = "localhost/debian-base:bookworm"
IMAGE = "localhost/newswatch:compose-test"
SERVICES = ("redis", "worker", "poller", "beat", "flower")
TOPIC = "nk-troops-russia"
# What the image needs (the .dockerignore allow-list) and what compose mounts.
DEPLOYMENT = ("Dockerfile", ".dockerignore", "docker-compose.yml", ".env.example",
              "pyproject.toml", "README.md", "worker", "config", "seeds")


@dataclass
class Steps:
    """Prints each step with the time since the start, and keeps them for the summary."""

    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)

    def __call__(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f} s] {message}"
        self.lines.append(line)
        print(line, flush=True)

    def wait(self, condition: Callable[[], object], timeout: float, what: str,
             poll: float = 1.0) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if result := condition():
                return result
            time.sleep(poll)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# -- the articles: written for this test; the figures rise from the seed's 10,000 --------

def page(title: str, *paragraphs: str) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (f'<html lang="en"><head><title>{title}</title></head><body><article>'
            f"<h1>{title}</h1>\n{body}\n</article></body></html>").encode()


ARTICLES = {
    "seoul-11000": page(
        "Seoul briefs lawmakers on deployment",
        "South Korea's spy agency told parliament on Monday that North Korea has sent about "
        "11,000 troops to Russia.",
        "Members of the intelligence committee said the units trained near Vladivostok for "
        "several weeks before travelling west by rail.",
        "The agency added that it was still tracking artillery shipments that began in the "
        "summer and had grown since."),
    "kyiv-12000": page(
        "Kyiv raises its estimate",
        "A spokesman for Ukraine's military intelligence said North Korea now has roughly "
        "12,000 troops in Russia, most of them near Kursk.",
        "He said commanders from Pyongyang had been seen at a forward headquarters and that "
        "radio traffic in Korean had increased.",
        "The Kremlin declined to comment when reporters asked about the figure on Tuesday."),
    "pentagon-13500": page(
        "Pentagon updates its count",
        "Officials at the Pentagon estimate that North Korea has moved 13,500 troops into "
        "Russia's Kursk region this month.",
        "A briefing slide shown to journalists listed three brigades and an engineering "
        "battalion among the units identified so far.",
        "Allies in Europe were informed before the announcement, a defence official said."),
    "nato-15000": page(
        "Alliance warns of escalation",
        "The alliance's secretary general said North Korea has deployed 15,000 troops to "
        "Russia and called the step a dangerous expansion of the war.",
        "Ambassadors met in Brussels for an extraordinary session that lasted most of the "
        "afternoon and ended without a joint statement.",
        "Several governments summoned envoys to demand an explanation from Moscow."),
    "kursk-17000": page(
        "Front-line reports from Kursk",
        "Ukrainian officers at the front said North Korea has sent 17,000 troops to Russia, "
        "and that fresh companies arrived over the weekend.",
        "Drone footage reviewed by the brigade showed columns of trucks on forest roads south "
        "of the city of Kursk late at night.",
        "Medics said the fighting in nearby villages had intensified since Friday morning."),
}
OFF_TOPIC = page(
    "Rain floods central Jakarta",
    "Heavy rain flooded several streets in central Jakarta on Monday, and the city's "
    "transport agency diverted buses around the worst sections for most of the day.",
    "Residents of low-lying neighbourhoods moved furniture to upper floors as the water rose "
    "above the kerbs, and schools in two districts sent pupils home before noon.",
    "Forecasters expect more storms this week as the rainy season reaches its peak, and the "
    "governor asked drivers to avoid the toll road near the port until the pumps catch up.")


def feed(base: str, slugs: list[str]) -> bytes:
    items = "".join(
        f"<item><title>{slug}</title><link>{base}/world/{slug}</link><guid>{slug}</guid>"
        f"<pubDate>Mon, 0{n + 1} Dec 2025 08:00:00 GMT</pubDate></item>"
        for n, slug in enumerate(slugs))
    return f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()


# -- podman ---------------------------------------------------------------------------------

@dataclass
class Stack:
    folder: Path
    project: str
    log: Path

    def compose(self, *arguments: str, timeout: float = 900, check: bool = True) -> None:
        with self.log.open("a") as log:
            log.write(f"\n$ podman-compose {' '.join(arguments)}\n")
            log.flush()
            result = subprocess.run(
                ["podman-compose", "-p", self.project, "-f", str(self.folder / "docker-compose.yml"),
                 *arguments], cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                timeout=timeout)
        if check:
            assert result.returncode == 0, f"podman-compose {arguments[0]} failed; see {self.log}"

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def healthy(self, service: str) -> bool:
        return podman("healthcheck", "run", self.container(service), check=False).returncode == 0

    def inspect(self, service: str, template: str) -> str:
        return podman("inspect", "-f", template, self.container(service)).stdout.strip()

    def exec(self, service: str, *command: str) -> str:
        return podman("exec", self.container(service), *command, timeout=120).stdout


def podman(*arguments: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *arguments], capture_output=True, text=True,
                            timeout=timeout)
    if check:
        assert result.returncode == 0, f"podman {' '.join(arguments)}: {result.stderr[-500:]}"
    return result


def image_size(image: str) -> str:
    return f"{int(podman('image', 'inspect', '-f', '{{.Size}}', image).stdout) / 1e6:.0f} MB"


def write_project(folder: Path, env: dict[str, str], feed_url: str) -> None:
    """The deployment files of this checkout, a .env from .env.example, the test's config."""
    for name in DEPLOYMENT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, folder / name)
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={env.pop(name)}" if name in env else line)
    (folder / ".env").write_text("\n".join([*lines, *(f"{k}={v}" for k, v in env.items())]) + "\n")
    config = folder / "config"
    (config / "feeds.yaml").write_text(json.dumps({"feeds": [
        {"url": feed_url, "name": "Wire", "topics": [TOPIC], "interval": "5s"}]}))
    (config / "alerts.yaml").write_text(json.dumps({
        "channels": {"desk-webhook": {"type": "webhook", "url": "${ALERT_WEBHOOK_URL}",
                                      "secret": "${ALERT_WEBHOOK_SECRET}"}},
        "routes": [{"topics": ["*"], "events": ["figure.changed", "entity.first_seen"],
                    "channels": ["desk-webhook"]}]}))
    corpus = folder / "data" / "corpus"
    corpus.mkdir(parents=True)
    os.chown(corpus, 1000, 1000)  # the image's NEWSWATCH_UID


@contextmanager
def logs_on_failure(stack: Stack) -> Iterator[None]:
    """Each service's last log lines when a check fails, before the stack is taken down."""
    try:
        yield
    except BaseException:
        for service in SERVICES:
            logs = podman("logs", "--tail", "40", stack.container(service), check=False)
            print(f"--- {service}\n{logs.stdout}{logs.stderr}", flush=True)
        raise


def alert_log(stack: Stack) -> dict[str, str]:
    """Each event in the stack's alert log and its webhook delivery state (`newswatch alerts`)."""
    states: dict[str, str] = {}
    event = None
    for line in stack.exec("poller", "newswatch", "alerts", "--limit", "1000").splitlines():
        if not line.startswith(" "):
            event = line.split()[1]
        elif line.strip().startswith("desk-webhook:") and event:
            states[event] = line.split(":", 1)[1].split()[0]
    return states


def documents(corpus: Path) -> list[Path]:
    return sorted(corpus.glob("*.txt"))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    project = f"nwcompose{secrets.token_hex(3)}"
    stack = Stack(tmp_path / project, project, tmp_path / "podman-compose.log")
    stack.folder.mkdir()
    try:
        yield stack
    finally:
        if (stack.folder / ".env").exists():  # again, in case the test stopped midway
            stack.compose("down", "-v", "-t", "30", timeout=300, check=False)
        podman("network", "rm", "-f", f"{project}_default", check=False)
        left = podman("ps", "-a", "-q", "--filter", f"label=io.podman.compose.project={project}")
        assert left.stdout.strip() == "", f"containers left behind: {left.stdout}"


def test_the_compose_stack_runs_and_survives_a_killed_worker_and_a_redis_restart(
    stack: Stack,
) -> None:
    step = Steps()
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    flower_password = secrets.token_urlsafe(12)
    site_port, hook_port, flower_port = free_port(), free_port(), free_port()
    write_project(stack.folder, {
        "NEWSWATCH_BASE_IMAGE": BASE_IMAGE, "REDIS_IMAGE": BASE_IMAGE, "NEWSWATCH_IMAGE": IMAGE,
        "ALERT_WEBHOOK_URL": f"http://host.containers.internal:{hook_port}/hook",
        "ALERT_WEBHOOK_SECRET": webhook_secret,
        "FLOWER_USER": "desk", "FLOWER_PASSWORD": flower_password,
        "FLOWER_PORT": str(flower_port),
        # The feed server is on this machine's compose gateway, a private address.
        "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "NEWSWATCH_TICK_INTERVAL": "2s", "NEWSWATCH_POLL_INTERVAL": "5s",
        "NEWSWATCH_MIN_POLL_INTERVAL": "5s", "NEWSWATCH_MAX_POLL_INTERVAL": "10s",
        # Claims and hand-offs run out after about the task time limit: 60 s here, so an
        # entry lost with its worker is taken again within minutes, not ten.
        "NEWSWATCH_TASK_TIME_LIMIT": "60s",
    }, f"http://host.containers.internal:{site_port}/feed")
    corpus = stack.folder / "data" / "corpus" / TOPIC

    subprocess.run([str(ROOT / "tests" / "compose" / "base-image.sh"), BASE_IMAGE],
                   check=True, capture_output=True, timeout=900)
    step(f"base image {BASE_IMAGE}: {image_size(BASE_IMAGE)}")
    stack.compose("build", "worker")
    step(f"image {IMAGE} built from the Dockerfile on the local base: {image_size(IMAGE)}")
    user = podman("run", "--rm", IMAGE, "id", "-u").stdout.strip()
    assert user != "0"
    step(f"the image runs as uid {user}, not root")

    # Redis first (what depends_on does; podman-compose 1.0 ignores its conditions): its
    # network's gateway then exists on this machine for the test's servers to listen on.
    stack.compose("up", "-d", "redis")
    network = json.loads(podman("network", "inspect", f"{stack.project}_default").stdout)[0]
    gateway = network["subnets"][0]["gateway"]
    hanging, release = threading.Event(), threading.Event()
    page_requests: list[str] = []
    received: list[str] = []
    rejected: list[str] = []
    verifier = Webhook(webhook_secret)

    def serve_page(slug: str) -> Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]:
        def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            page_requests.append(slug)
            if slug == "nato-15000" and not hanging.is_set():
                hanging.set()
                release.wait(120)  # the worker container is killed while it waits here
            return 200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLES.get(slug, OFF_TOPIC)
        return answer

    def hook(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        body = request.rfile.read(int(request.headers["content-length"]))
        try:
            verifier.verify(body, dict(request.headers))
        except Exception as error:
            rejected.append(str(error))
            return 401, {}, b""
        received.append(request.headers["webhook-id"])
        return 204, {}, b""

    with (LoopbackServer((gateway, site_port)) as site,
          LoopbackServer((gateway, hook_port)) as receiver,
          logs_on_failure(stack)):
        step(f"feed, pages and webhook receiver listening on {gateway} (compose gateway)")
        base = f"http://host.containers.internal:{site_port}"
        for slug in [*ARTICLES, "jakarta-rain"]:
            site.routes[f"/world/{slug}"] = serve_page(slug)
        receiver.routes["/hook"] = hook
        site.serve("/feed", feed(base, ["seoul-11000", "kyiv-12000", "jakarta-rain"]),
                   "application/rss+xml")

        # The services `docker compose up` starts; podman-compose 1.0 ignores `profiles`.
        stack.compose("up", "-d", *SERVICES[1:])
        for service in SERVICES:
            step.wait(lambda service=service: stack.healthy(service), 300,
                      f"{service} to be healthy", poll=2)
            step(f"{service}: healthy")
        published = podman("port", stack.container("flower")).stdout.strip()
        assert published == f"5555/tcp -> 127.0.0.1:{flower_port}", published
        api = f"http://127.0.0.1:{flower_port}/api/workers"
        assert httpx.get(api, timeout=10).status_code == 401
        answer = httpx.get(api, auth=("desk", flower_password), timeout=30)
        assert answer.status_code == 200
        step(f"flower on {published}: 401 without credentials, 200 with")

        step.wait(lambda: len(documents(corpus)) >= 2, 300, "the first two documents")
        written = documents(corpus)
        assert len(written) == 2
        for path in written:
            mode = path.stat().st_mode
            assert mode & stat.S_IROTH, f"{path} is not readable by other users"
            assert "North Korea" in path.read_text()
        step(f"corpus mount: {len(written)} documents on the host ({written[0].name}, …), "
             "world-readable; the off-topic page was not written")
        tasks_api = f"http://127.0.0.1:{flower_port}/api/tasks"

        def task_names() -> set[str]:
            tasks = httpx.get(tasks_api, auth=("desk", flower_password), timeout=30).json()
            return {task["name"] for task in tasks.values()}

        step.wait(lambda: {"newswatch.poll_feed", "newswatch.process_entry"} <= task_names(),
                  60, "Flower to show the tasks by name")
        step("flower shows newswatch.poll_feed and newswatch.process_entry")

        def delivered(at_least: int) -> Callable[[], dict[str, str] | None]:
            def check() -> dict[str, str] | None:
                log = alert_log(stack)
                done = len(log) >= at_least and all(s == "delivered" for s in log.values())
                return log if done and sorted(received) == sorted(log) else None
            return check

        # The first poll is the feed's baseline (documents, no alerts); news after it alerts.
        assert alert_log(stack) == {}
        site.serve("/feed", feed(base, [*list(ARTICLES)[:3], "jakarta-rain"]),
                   "application/rss+xml")
        events = step.wait(delivered(1), 240, "the webhook for the third article", poll=3)
        assert rejected == []
        step(f"webhooks: {len(received)} received and verified on the host for "
             f"{len(events)} event(s) after the baseline, all 'delivered' in the alert log")

        # Faults: two new entries; the worker container is SIGKILLed while it fetches one
        # page (as the OOM killer would: the host kills its PID 1), and Redis is restarted
        # while that entry is in flight.
        before_faults = time.monotonic()
        site.serve("/feed", feed(base, [*ARTICLES, "jakarta-rain"]), "application/rss+xml")
        step.wait(hanging.is_set, 180, "the worker to fetch the hanging page", poll=0.2)
        first_pid = stack.inspect("worker", "{{.State.Pid}}")
        os.kill(int(first_pid), signal.SIGKILL)
        step("worker container SIGKILLed mid-article")
        podman("restart", "-t", "10", stack.container("redis"))
        step("redis restarted")
        release.set()
        step.wait(lambda: stack.inspect("worker", "{{.State.Pid}}") not in ("0", first_pid),
                  120, "the restart policy to start the worker again")
        restarts = stack.inspect("worker", "{{.RestartCount}}")
        step(f"worker restarted by its restart policy (restart count {restarts})")
        step.wait(lambda: stack.healthy("worker") and stack.healthy("redis"), 300,
                  "worker and redis healthy again", poll=2)
        step("worker and redis healthy again")
        step.wait(lambda: len(documents(corpus)) >= len(ARTICLES), 420,
                  f"all {len(ARTICLES)} documents after the faults", poll=2)
        events = step.wait(delivered(len(events) + 1), 300, "every event's webhook after the faults",
                           poll=3)
        step(f"recovered in {time.monotonic() - before_faults:.0f} s")

    written = documents(corpus)
    manifest = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
    urls = [entry["url"] for entry in manifest]
    assert len(written) == len(ARTICLES), [p.name for p in written]
    assert sorted(urls) == sorted(f"{base}/world/{slug}" for slug in ARTICLES)
    assert len({p.read_text() for p in written}) == len(ARTICLES)
    assert len(received) == len(set(received)), f"a webhook was sent twice: {received}"
    assert sorted(received) == sorted(events) and rejected == []
    step(f"nothing lost or doubled: {len(written)} documents, {len(manifest)} manifest lines, "
         f"{len(received)} webhooks for {len(events)} events, each once; page fetches: "
         f"{page_requests.count('nato-15000')} of the page the worker died on")
    started = time.monotonic()
    podman("stop", "-t", "60", stack.container("worker"))
    took = time.monotonic() - started
    exit_code = stack.inspect("worker", "{{.State.ExitCode}}")
    logs = podman("logs", "--tail", "20", stack.container("worker"))
    assert exit_code == "0" and "warm shutdown" in (logs.stdout + logs.stderr).lower()
    step(f"worker stopped by SIGTERM: warm shutdown, exit 0 in {took:.1f} s")
    stack.compose("down", "-v", "-t", "30", timeout=300)
    step("podman-compose down -v")
    volumes = podman("volume", "ls", "-q", "--filter",
                     f"label=io.podman.compose.project={stack.project}").stdout.strip()
    assert volumes == ""
    print("\n".join(["", "compose test summary:", *step.lines]), flush=True)
