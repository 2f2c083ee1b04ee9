"""Helpers the tests share: paths, config folders, the fault-suite report, CLI runs.

Fixtures live in the conftest files; everything a test imports lives here.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from worker.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt"


# One short on-topic article in the corpus's schema (title, blank line, body).
KYIV_TROOPS = (
    "Kyiv counts more troops\n\n"
    "Officials in Kyiv said on Wednesday that about 15,000 North Korean soldiers are now "
    "fighting for Russia in the Kursk region, citing intelligence gathered over two weeks.\n"
    "The estimate is higher than earlier figures published by Western governments, and "
    "officials in Moscow did not comment on it when asked on Wednesday evening.\n"
)


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or a skip saying why the check cannot run."""
    path = SHARED / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets are not part of a clone)")
    return path


def write_config(
    folder: Path,
    *,
    feeds: list[dict[str, object]] | None = None,
    channels: dict[str, object] | None = None,
    service: dict[str, object] | None = None,
    topic_overrides: dict[str, object] | None = None,
) -> Path:
    """A config folder with the example topic, seeds copied beside it, data under `folder`."""
    config = folder / "config"
    (config / "topics").mkdir(parents=True, exist_ok=True)
    seeds = folder / "seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(SEED, seeds / SEED.name)
    topic = yaml.safe_load((ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text())
    topic.update({"seeds": str(seeds), "corpus": str(folder / "corpus")})
    topic.update(topic_overrides or {})
    (config / "topics" / "nk-troops-russia.yaml").write_text(yaml.safe_dump(topic))
    settings = {
        "data_dir": str(folder / "data"),
        "allow_private_networks": True,
        "fetch_timeout": "10s",
        "tick_interval": "1s",
    }
    settings.update(service or {})
    (config / "newswatch.yaml").write_text(yaml.safe_dump(settings))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds or []}))
    routes = [{"topics": ["*"], "events": ["*"], "channels": sorted(channels)}] if channels else []
    (config / "alerts.yaml").write_text(
        yaml.safe_dump({"channels": channels or {}, "routes": routes})
    )
    return config


def report(scenario: str, **counts: object) -> None:
    target = os.environ.get("NEWSWATCH_FAULT_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"scenario": scenario, **counts}) + "\n")


def start_poll_once(config_dir: Path, redis_url: str) -> subprocess.Popen[str]:
    """`newswatch poll --once` in the background, against the given config and Redis."""
    env = {**os.environ, "NEWSWATCH_CONFIG_DIR": str(config_dir), "NEWSWATCH_REDIS_URL": redis_url}
    return subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "poll", "--once"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def chromium_paths() -> tuple[str, str] | None:
    """Debian's chromium and its chromedriver, when installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def chromium(
    credentials: tuple[str, str] | None, width: int = 1280, height: int = 900
) -> Iterator[Any]:
    """Headless Chromium through its chromedriver (selenium); with `credentials`, every
    request carries them as basic auth. Skips the test where chromium is not installed."""
    paths = chromium_paths()
    if paths is None:
        pytest.skip(
            "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    try:
        if credentials:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd(
                "Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Basic {token}"}}
            )
        yield driver
    finally:
        driver.quit()


WORDS = """river market council harvest ferry bridge rainfall school budget courthouse
orchard festival highway railway museum library harbour factory village stadium clinic
teacher farmer engineer driver baker tailor painter sailor miner weaver potter ranger
copper timber cotton pepper coffee barley cement marble silver wool salt honey
north south early late quiet busy narrow broad steady sudden gentle rough bright pale
opened closed repaired delayed counted measured planted painted carried sold built moved
across beside between during after before within beyond under over around toward
morning evening winter summer season decade weekend holiday midnight dawn noon autumn
""".split()


def distinct_page(n: int, troops: int | None = None) -> str:
    """An on-topic article whose words no other `n` shares (so none is a near-duplicate),
    stating a troop count when `troops` is given. Written for these tests."""
    rng = random.Random(n)
    body = [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(3)]
    # The lead differs per `n` too: a line a source repeats is dropped as boilerplate.
    lead = (
        f"North Korea has sent about {troops:,} troops to Russia, officials said."
        if troops
        else f"North Korea and Russia were both named in briefing {n}."
    )
    paragraphs = "".join(f"<p>{p}</p>" for p in [lead, *body])
    return (
        f'<html lang="en"><head><title>Report {n}</title></head><body><article>'
        f"{paragraphs}</article></body></html>"
    )


def one_delivery_per_event(store: Store, delivered: list[dict[str, Any]]) -> tuple[int, int]:
    """(events stored, webhooks received); asserts each stored event arrived once."""
    stored = {e.id for e in store.recent_events(10_000)}
    ids = [e["id"] for e in delivered]
    assert len(ids) == len(set(ids)), f"an event was delivered twice: {ids}"
    assert set(ids) == stored, f"stored {sorted(stored)}, delivered {sorted(ids)}"
    return len(stored), len(ids)
