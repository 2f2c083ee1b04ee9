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
import functools
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
from email.utils import formatdate
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
SERVICES = ("redis", "worker", "poller", "beat", "flower", "web")
TOPIC = "nk-troops-russia"
# What the image needs (the .dockerignore allow-list) and what compose mounts.
DEPLOYMENT = (
    "Dockerfile",
    ".dockerignore",
    "docker-compose.yml",
    ".env.example",
    "pyproject.toml",
    "README.md",
    "worker",
    "config",
    "seeds",
)


@dataclass
class Steps:
    """Prints each step with the time since the start, and keeps them for the summary."""

    started: float = field(default_factory=time.monotonic)
    lines: list[str] = field(default_factory=list)

    def __call__(self, message: str) -> None:
        line = f"[{time.monotonic() - self.started:7.1f} s] {message}"
        self.lines.append(line)
        print(line, flush=True)

    def wait(
        self, condition: Callable[[], object], timeout: float, what: str, poll: float = 1.0
    ) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (result := condition()) is not None and result is not False:
                return result
            time.sleep(poll)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


# -- the articles: written for this test; the figures rise from the seed's 10,000 --------


def page(title: str, *paragraphs: str) -> bytes:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html lang="en"><head><title>{title}</title></head><body><article>'
        f"<h1>{title}</h1>\n{body}\n</article></body></html>"
    ).encode()


ARTICLES = {
    "seoul-11000": page(
        "Seoul briefs lawmakers on deployment",
        "South Korea's spy agency told parliament on Monday that North Korea has sent about "
        "11,000 troops to Russia.",
        "Members of the intelligence committee said the units trained near Vladivostok for "
        "several weeks before travelling west by rail.",
        "The agency added that it was still tracking artillery shipments that began in the "
        "summer and had grown since.",
    ),
    "kyiv-12000": page(
        "Kyiv raises its estimate",
        "A spokesman for Ukraine's military intelligence said North Korea now has roughly "
        "12,000 troops in Russia, most of them near Kursk.",
        "He said commanders from Pyongyang had been seen at a forward headquarters and that "
        "radio traffic in Korean had increased.",
        "The Kremlin declined to comment when reporters asked about the figure on Tuesday.",
    ),
    "pentagon-13500": page(
        "Pentagon updates its count",
        "Officials at the Pentagon estimate that North Korea has moved 13,500 troops into "
        "Russia's Kursk region this month.",
        "A briefing slide shown to journalists listed three brigades and an engineering "
        "battalion among the units identified so far.",
        "Allies in Europe were informed before the announcement, a defence official said.",
    ),
    "nato-15000": page(
        "Alliance warns of escalation",
        "The alliance's secretary general said North Korea has deployed 15,000 troops to "
        "Russia and called the step a dangerous expansion of the war.",
        "Ambassadors met in Brussels for an extraordinary session that lasted most of the "
        "afternoon and ended without a joint statement.",
        "Several governments summoned envoys to demand an explanation from Moscow.",
    ),
    "kursk-17000": page(
        "Front-line reports from Kursk",
        "Ukrainian officers at the front said North Korea has sent 17,000 troops to Russia, "
        "and that fresh companies arrived over the weekend.",
        "Drone footage reviewed by the brigade showed columns of trucks on forest roads south "
        "of the city of Kursk late at night.",
        "Medics said the fighting in nearby villages had intensified since Friday morning.",
    ),
}
OFF_TOPIC = page(
    "Rain floods central Jakarta",
    "Heavy rain flooded several streets in central Jakarta on Monday, and the city's "
    "transport agency diverted buses around the worst sections for most of the day.",
    "Residents of low-lying neighbourhoods moved furniture to upper floors as the water rose "
    "above the kerbs, and schools in two districts sent pupils home before noon.",
    "Forecasters expect more storms this week as the rainy season reaches its peak, and the "
    "governor asked drivers to avoid the toll road near the port until the pumps catch up.",
)


PUBLISHED_ORDER = [*ARTICLES, "jakarta-rain"]
STARTED = time.time()


def feed(base: str, slugs: list[str]) -> bytes:
    """An RSS feed of `slugs`, each published an hour after the one before it and all
    within the last hours (news older than the topic's max_age moves figures silently)."""

    def published(slug: str) -> str:
        hours_ago = len(PUBLISHED_ORDER) - PUBLISHED_ORDER.index(slug)
        return formatdate(STARTED - 3600 * hours_ago, usegmt=True)

    items = "".join(
        f"<item><title>{slug}</title><link>{base}/world/{slug}</link><guid>{slug}</guid>"
        f"<pubDate>{published(slug)}</pubDate></item>"
        for slug in slugs
    )
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
                [
                    "podman-compose",
                    "-p",
                    self.project,
                    "-f",
                    str(self.folder / "docker-compose.yml"),
                    *arguments,
                ],
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
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


def podman(
    *arguments: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *arguments], capture_output=True, text=True, timeout=timeout)
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
            shutil.copytree(
                source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy(source, folder / name)
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={env.pop(name)}" if name in env else line)
    (folder / ".env").write_text("\n".join([*lines, *(f"{k}={v}" for k, v in env.items())]) + "\n")
    config = folder / "config"
    (config / "feeds.yaml").write_text(
        json.dumps(
            {"feeds": [{"url": feed_url, "name": "Wire", "topics": [TOPIC], "interval": "5s"}]}
        )
    )
    (config / "alerts.yaml").write_text(
        json.dumps(
            {
                "channels": {
                    "desk-webhook": {
                        "type": "webhook",
                        "url": "${ALERT_WEBHOOK_URL}",
                        "secret": "${ALERT_WEBHOOK_SECRET}",
                    }
                },
                "routes": [
                    {
                        "topics": ["*"],
                        "events": ["figure.changed", "entity.first_seen"],
                        "channels": ["desk-webhook"],
                    }
                ],
            }
        )
    )
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


@dataclass
class World:
    """The running stack and what the test serves it and receives from it."""

    stack: Stack
    step: Steps
    corpus: Path
    site: LoopbackServer
    base: str
    flower_port: int
    web_port: int
    flower_password: str  # the web view's too
    hanging: threading.Event
    release: threading.Event
    page_requests: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    def delivered(self, at_least: int) -> Callable[[], dict[str, str] | None]:
        """The alert log once it holds `at_least` events, each delivered, each received."""

        def check() -> dict[str, str] | None:
            log = alert_log(self.stack)
            done = len(log) >= at_least and all(s == "delivered" for s in log.values())
            return log if done and sorted(self.received) == sorted(log) else None

        return check


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Images built, the stack up with every service healthy, the feed being served."""
    project = f"nwcompose{secrets.token_hex(3)}"
    folder = tmp_path_factory.mktemp("compose")
    stack = Stack(folder / project, project, folder / "podman-compose.log")
    stack.folder.mkdir()
    step = Steps()
    try:
        yield from _start(stack, step)
    finally:
        started = time.monotonic()
        if (stack.folder / ".env").exists():
            stack.compose("down", "-v", "-t", "30", timeout=300, check=False)
        podman("network", "rm", "-f", f"{project}_default", check=False)
        left = podman("ps", "-a", "-q", "--filter", f"label=io.podman.compose.project={project}")
        volumes = podman(
            "volume", "ls", "-q", "--filter", f"label=io.podman.compose.project={project}"
        )
        step(
            f"podman-compose down -v in {time.monotonic() - started:.0f} s; containers left: "
            f"{len(left.stdout.split())}, volumes left: {len(volumes.stdout.split())}"
        )
        print("\n".join(["", "compose test summary:", *step.lines]), flush=True)
        assert left.stdout.strip() == "" and volumes.stdout.strip() == ""


def _start(stack: Stack, step: Steps) -> Iterator[World]:
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    flower_password = secrets.token_urlsafe(12)
    site_port, hook_port, flower_port, web_port = (free_port() for _ in range(4))
    write_project(
        stack.folder,
        {
            "NEWSWATCH_BASE_IMAGE": BASE_IMAGE,
            "REDIS_IMAGE": BASE_IMAGE,
            "NEWSWATCH_IMAGE": IMAGE,
            "ALERT_WEBHOOK_URL": f"http://host.containers.internal:{hook_port}/hook",
            "ALERT_WEBHOOK_SECRET": webhook_secret,
            "FLOWER_USER": "desk",
            "FLOWER_PASSWORD": flower_password,
            "FLOWER_PORT": str(flower_port),
            "NEWSWATCH_WEB_USER": "desk",
            "NEWSWATCH_WEB_PASSWORD": flower_password,
            "NEWSWATCH_WEB_PORT": str(web_port),
            # The feed server is on this machine's compose gateway, a private address.
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "true",
            "NEWSWATCH_TICK_INTERVAL": "2s",
            "NEWSWATCH_POLL_INTERVAL": "5s",
            "NEWSWATCH_MIN_POLL_INTERVAL": "5s",
            "NEWSWATCH_MAX_POLL_INTERVAL": "10s",
            # Claims and hand-offs run out after about the task time limit: 60 s here, so an
            # entry lost with its worker is taken again within minutes, not ten.
            "NEWSWATCH_TASK_TIME_LIMIT": "60s",
        },
        f"http://host.containers.internal:{site_port}/feed",
    )

    subprocess.run(
        [str(ROOT / "tests" / "compose" / "base-image.sh"), BASE_IMAGE],
        check=True,
        capture_output=True,
        timeout=900,
    )
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
    verifier = Webhook(webhook_secret)
    with (
        LoopbackServer((gateway, site_port)) as site,
        LoopbackServer((gateway, hook_port)) as receiver,
        logs_on_failure(stack),
    ):
        world = World(
            stack,
            step,
            stack.folder / "data" / "corpus" / TOPIC,
            site,
            f"http://host.containers.internal:{site_port}",
            flower_port,
            web_port,
            flower_password,
            threading.Event(),
            threading.Event(),
        )

        def serve_page(
            slug: str,
        ) -> Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]:
            def answer(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
                world.page_requests.append(slug)
                if slug == "nato-15000" and not world.hanging.is_set():
                    world.hanging.set()
                    world.release.wait(120)  # the worker container is killed meanwhile
                return (
                    200,
                    {"Content-Type": "text/html; charset=utf-8"},
                    ARTICLES.get(slug, OFF_TOPIC),
                )

            return answer

        def hook(request: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
            body = request.rfile.read(int(request.headers["content-length"]))
            try:
                verifier.verify(body, dict(request.headers))
            except Exception as error:
                world.rejected.append(str(error))
                return 401, {}, b""
            world.received.append(request.headers["webhook-id"])
            return 204, {}, b""

        step(f"feed, pages and webhook receiver listening on {gateway} (compose gateway)")
        for slug in PUBLISHED_ORDER:
            site.routes[f"/world/{slug}"] = serve_page(slug)
        receiver.routes["/hook"] = hook
        site.serve(
            "/feed",
            feed(world.base, ["seoul-11000", "kyiv-12000", "jakarta-rain"]),
            "application/rss+xml",
        )
        # The services `docker compose up` starts; podman-compose 1.0 ignores `profiles`.
        stack.compose("up", "-d", *SERVICES[1:])
        for service in SERVICES:
            step.wait(
                lambda service=service: stack.healthy(service),
                300,
                f"{service} to be healthy",
                poll=2,
            )
            step(f"{service}: healthy")
        yield world
        world.release.set()


def logs_if_it_fails(test: Callable[[World], None]) -> Callable[[World], None]:
    @functools.wraps(test)
    def wrapper(world: World) -> None:
        with logs_on_failure(world.stack):
            test(world)

    return wrapper


@logs_if_it_fails
def test_flower_the_corpus_mount_and_signed_webhooks_work_end_to_end(world: World) -> None:
    stack, step, corpus = world.stack, world.step, world.corpus
    published = podman("port", stack.container("flower")).stdout.strip()
    assert published == f"5555/tcp -> 127.0.0.1:{world.flower_port}", published
    api = f"http://127.0.0.1:{world.flower_port}/api"
    credentials = ("desk", world.flower_password)
    assert httpx.get(f"{api}/workers", timeout=10).status_code == 401
    assert httpx.get(f"{api}/workers", auth=credentials, timeout=30).status_code == 200
    step(f"flower on {published}: 401 without credentials, 200 with")
    web = f"http://127.0.0.1:{world.web_port}/api/topics"
    assert httpx.get(web, timeout=10).status_code == 401
    assert httpx.get(web, auth=credentials, timeout=30).status_code == 200
    step(f"web view on 127.0.0.1:{world.web_port}: 401 without credentials, 200 with")

    step.wait(lambda: len(documents(corpus)) >= 2, 300, "the first two documents")
    written = documents(corpus)
    assert len(written) == 2
    for path in written:
        assert path.stat().st_mode & stat.S_IROTH, f"{path} is not readable by other users"
        assert "North Korea" in path.read_text()
    step(
        f"corpus mount: {len(written)} documents on the host ({written[0].name}, …), "
        "world-readable; the off-topic page was not written"
    )

    def task_names() -> set[str]:
        tasks = httpx.get(f"{api}/tasks", auth=credentials, timeout=30).json()
        return {task["name"] for task in tasks.values()}

    step.wait(
        lambda: {"newswatch.poll_feed", "newswatch.process_entries"} <= task_names(),
        60,
        "Flower to show the tasks by name",
    )
    step("flower shows newswatch.poll_feed and newswatch.process_entries")

    # Whatever the first poll raised is delivered (a first poll is the feed's silent
    # baseline: it raises nothing); the next article moves the troop figure and alerts.
    baseline = step.wait(world.delivered(0), 240, "the first poll's webhooks", poll=3)
    world.site.serve(
        "/feed", feed(world.base, [*list(ARTICLES)[:3], "jakarta-rain"]), "application/rss+xml"
    )
    events = step.wait(
        world.delivered(len(baseline) + 1), 240, "the webhook for the third article", poll=3
    )
    assert world.rejected == []
    step(
        f"webhooks: {len(world.received)} received and verified on the host for "
        f"{len(events)} event(s), all 'delivered' in the alert log"
    )


@logs_if_it_fails
def test_nothing_is_lost_or_sent_twice_when_the_worker_is_killed_and_redis_restarts(
    world: World,
) -> None:
    """Two new entries; the worker container is SIGKILLed while it fetches one page (as
    the OOM killer would: the host kills its PID 1), and Redis is restarted meanwhile."""
    stack, step, corpus = world.stack, world.step, world.corpus
    before = alert_log(stack)
    started = time.monotonic()
    world.site.serve("/feed", feed(world.base, PUBLISHED_ORDER), "application/rss+xml")
    step.wait(world.hanging.is_set, 180, "the worker to fetch the hanging page", poll=0.2)
    first_pid = stack.inspect("worker", "{{.State.Pid}}")
    os.kill(int(first_pid), signal.SIGKILL)
    step("worker container SIGKILLed mid-article")
    podman("restart", "-t", "10", stack.container("redis"))
    step("redis restarted")
    world.release.set()
    step.wait(
        lambda: stack.inspect("worker", "{{.State.Pid}}") not in ("0", first_pid),
        120,
        "the restart policy to start the worker again",
    )
    restarts = stack.inspect("worker", "{{.RestartCount}}")
    step(f"worker restarted by its restart policy (restart count {restarts})")
    step.wait(
        lambda: stack.healthy("worker") and stack.healthy("redis"),
        300,
        "worker and redis healthy again",
        poll=2,
    )
    step("worker and redis healthy again")
    step.wait(
        lambda: len(documents(corpus)) >= len(ARTICLES),
        420,
        f"all {len(ARTICLES)} documents after the faults",
        poll=2,
    )
    events = step.wait(
        world.delivered(len(before) + 1), 300, "every event's webhook after the faults", poll=3
    )
    step(f"recovered in {time.monotonic() - started:.0f} s")

    written = documents(corpus)
    manifest = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
    assert len(written) == len(ARTICLES), [p.name for p in written]
    assert sorted(e["url"] for e in manifest) == sorted(
        f"{world.base}/world/{slug}" for slug in ARTICLES
    )
    assert len({p.read_text() for p in written}) == len(ARTICLES)
    received = world.received
    assert len(received) == len(set(received)), f"a webhook was sent twice: {received}"
    assert sorted(received) == sorted(events) and world.rejected == []
    step(
        f"nothing lost or doubled: {len(written)} documents, {len(manifest)} manifest lines, "
        f"{len(received)} webhooks for {len(events)} events, each once; page fetches: "
        f"{world.page_requests.count('nato-15000')} of the page the worker died on"
    )


@logs_if_it_fails
def test_sigterm_gives_every_service_a_prompt_clean_stop(world: World) -> None:
    """What `docker compose stop` sends: the workers' warm shutdown, and no service left
    to wait out its grace period (a minute) and be killed."""
    stack, step = world.stack, world.step
    stops = []
    for service in reversed(SERVICES):
        started = time.monotonic()
        podman("stop", "-t", "60", stack.container(service))
        took = time.monotonic() - started
        stops.append((service, stack.inspect(service, "{{.State.ExitCode}}"), took))
    step("stopped: " + ", ".join(f"{s} exit {c} in {t:.1f} s" for s, c, t in stops))
    logs = podman("logs", "--tail", "20", stack.container("worker"))
    assert "warm shutdown" in (logs.stdout + logs.stderr).lower()
    # Each ended by itself within the grace period (137 would be the SIGKILL after it);
    # 143 is a process without a handler ended by SIGTERM itself (the web view).
    assert all(code in ("0", "143") and took < 55 for _, code, took in stops), stops
    assert dict((s, c) for s, c, _ in stops)["worker"] == "0"
