"""The web view over real state, through HTTP as a browser or a script would use it."""

from __future__ import annotations

import re

import httpx

from tests.web.conftest import FEED, FIGURE, PLANTED_WORD, REPORTS, TOPIC, Site, ingest


def test_everything_but_healthz_needs_the_credentials(web_view: Site) -> None:
    for path in (
        "/",
        f"/topics/{TOPIC}",
        "/alerts",
        "/feeds",
        "/api/topics",
        "/metrics",
        "/api/openapi.json",
        "/static/charts.js",
    ):
        anonymous = httpx.get(web_view.base + path, timeout=30)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["www-authenticate"].startswith("Basic ")
        wrong = httpx.get(web_view.base + path, auth=("desk", "guess"), timeout=30)
        assert wrong.status_code == 401, path
        assert web_view.get(path).status_code == 200, path
    health = httpx.get(web_view.base + "/healthz", timeout=30)
    assert health.status_code == 200 and health.json() == {"status": "ok", "redis": None}


def test_a_figure_history_is_in_publication_order_with_its_documents(web_view: Site) -> None:
    history = web_view.get(f"/api/topics/{TOPIC}/figures/{FIGURE}").json()
    dated = [p for p in history["points"] if p["time_from"] != "undated"]
    assert [(p["value"], p["upper"], p["confirmed"]) for p in dated] == [
        (11000, None, True),
        (12000, None, True),
        (14000, None, True),
        (14500, 15000, True),
        (60000, None, False),
    ]  # one blog's far jump is held unconfirmed
    assert [p["document"]["published"][:10] for p in dated] == [r[0] for r in REPORTS]
    assert [p["time_from"] for p in dated] == ["feed"] * len(REPORTS)
    current = history["figure"]["current"]
    assert (current["value"], current["upper"]) == (14500, 15000)
    assert history["figure"]["points"] == len(history["points"])
    for point in dated:
        document = web_view.get(f"/api/topics/{TOPIC}/documents/{point['document']['id']}")
        assert document.status_code == 200
        read = [f["value"] for f in document.json()["figures"] if f["figure"] == FIGURE]
        assert point["value"] in read
    page = web_view.get(f"/topics/{TOPIC}/figures/{FIGURE}").text
    for number, point in enumerate(history["points"]):
        assert f'id="p{number}"' in page
    assert "Seoul&#39;s spy agency" in page
    held = page.index(f'<tr id="p{len(history["points"]) - 1}" class="unconfirmed">')
    assert "60,000" in page[held : held + 400]
    assert "14,500–15,000" in page


def test_the_alert_log_shows_each_channels_state_attempts_and_error(web_view: Site) -> None:
    alerts = web_view.get("/api/alerts").json()
    changes = [a for a in alerts if a["type"] == "figure.changed"]
    assert {a["event"]["current"]["value"] for a in changes} == {11000, 12000, 14000, 14500}
    for alert in alerts:
        [delivery] = alert["deliveries"]
        assert delivery["channel"] == "desk-webhook"
        assert delivery["state"] == "retrying" and delivery["attempts"] == 1
        assert delivery["last_error"]
    page = web_view.get("/alerts").text
    assert alerts[0]["id"] in page and "retrying" in page
    assert re.search(r"1 attempt\(s\)", page)


def test_search_finds_a_planted_document_and_one_added_later(web_view: Site) -> None:
    found = web_view.get(f"/api/topics/{TOPIC}/documents", params={"q": PLANTED_WORD}).json()
    assert found["total"] == 1
    assert found["documents"][0]["url"] == REPORTS[1][1]
    assert (
        web_view.get(f"/api/topics/{TOPIC}/documents", params={"q": "Chongjin"}).json()["total"]
        == 0
    )
    ingest(
        web_view.rt,
        "2024-12-02",
        "https://wire.example/d",
        "From the port",
        "North Korean troops left Chongjin for Russia by sea, South Korea said.",
    )
    later = web_view.get(f"/api/topics/{TOPIC}/documents", params={"q": "chongjin"}).json()
    assert [d["url"] for d in later["documents"]] == ["https://wire.example/d"]
    listing = web_view.get(f"/api/topics/{TOPIC}/documents").json()
    assert listing["documents"][0]["url"] == "https://wire.example/d"  # newest first
    assert listing["total"] == len(REPORTS) + 2  # and the seed
    page = web_view.get(f"/topics/{TOPIC}/documents", params={"q": PLANTED_WORD}).text
    assert f"<mark>{PLANTED_WORD}</mark>" in page


def test_a_document_shows_its_manifest_fields_and_figures(web_view: Site) -> None:
    found = web_view.get(f"/api/topics/{TOPIC}/documents", params={"q": PLANTED_WORD}).json()
    doc_id = found["documents"][0]["id"]
    detail = web_view.get(f"/api/topics/{TOPIC}/documents/{doc_id}").json()
    [line] = detail["manifest"]
    assert line["url"] == REPORTS[1][1] and line["sha256"] and line["file"].endswith(".txt")
    assert detail["figures"][0]["value"] == 12000
    assert detail["paragraphs"][1].startswith("Most crossed the border")
    page = web_view.get(f"/topics/{TOPIC}/documents/{doc_id}").text
    assert line["sha256"] in page and "about 12,000" in page
    assert web_view.get(f"/topics/{TOPIC}/documents/0000000000000000").status_code == 404
    assert web_view.get("/topics/no-such-topic").status_code == 404


def test_article_text_is_escaped_in_every_page(web_view: Site) -> None:
    ingest(
        web_view.rt,
        "2024-12-03",
        "https://wire.example/e",
        "<script>alert(1)</script>",
        "North Korean troops in Russia <img src=x onerror=alert(2)> were seen near Kursk.",
    )
    listing = web_view.get(f"/topics/{TOPIC}/documents").text
    assert "<script>alert(1)" not in listing and "&lt;script&gt;alert(1)" in listing
    hit = web_view.get(f"/topics/{TOPIC}/documents", params={"q": "onerror"}).text
    assert "<img src=x" not in hit and "&lt;img src=x" in hit


def test_feeds_show_last_success_next_poll_errors_and_failing_since(web_view: Site) -> None:
    from worker.feeds import FeedState
    from worker.pipeline import feed_id

    url = FEED["url"]
    [never] = web_view.get("/api/feeds").json()
    assert not never["polled"] and never["last_success"] is None
    web_view.desk.store.save_feed_state(
        feed_id(url),
        FeedState(
            url=url,
            last_success=1_700_000_000.0,
            last_error="HTTP 503 from feeds.example",
            consecutive_errors=4,
            failing_since=1_700_003_600.0,
            next_poll=1_700_010_000.0,
            entries_seen=42,
            polls=9,
        ),
    )
    [feed] = web_view.get("/api/feeds").json()
    assert feed["name"] == "World" and feed["entries_seen"] == 42
    assert feed["consecutive_errors"] == 4 and feed["failing_since"] == 1_700_003_600.0
    page = web_view.get("/feeds").text
    assert "HTTP 503 from feeds.example" in page and "2023-11-14 22:13:20 UTC" in page
    assert "failing since 2023-11-14 23:13:20 UTC" in page


def test_the_api_is_described_by_an_openapi_document(web_view: Site) -> None:
    spec = web_view.get("/api/openapi.json").json()
    assert {
        "/api/topics",
        "/api/topics/{topic_id}/figures/{figure_id}",
        "/api/alerts",
        "/api/feeds",
        "/api/topics/{topic_id}/documents",
    } <= set(spec["paths"])


def test_a_long_history_is_charted_whole_and_tabled_by_windows(web_view: Site) -> None:
    from worker.signals.changes import FigureStep

    store = web_view.desk.store
    [first, *_] = store.figure_history(TOPIC, FIGURE)
    steps = [
        FigureStep(reading=first.reading.model_copy(update={"value": 20_000 + n}))
        for n in range(250)
    ]
    store.save_figure_history(TOPIC, FIGURE, steps)
    newest = web_view.get(f"/topics/{TOPIC}/figures/{FIGURE}").text
    rows = [int(n) for n in re.findall(r'<tr id="p(\d+)"', newest)]
    assert rows == list(range(151, 251)) and "‹ earlier" in newest  # 250 steps, 1 held
    assert newest.count('"v": ') == 250 + 1  # every reading on the chart (and the held one)
    around = web_view.get(f"/topics/{TOPIC}/figures/{FIGURE}", params={"around": 10}).text
    assert [int(n) for n in re.findall(r'<tr id="p(\d+)"', around)] == list(range(0, 100))


def test_config_edits_show_without_a_restart_and_bad_ones_are_ignored(web_view: Site) -> None:
    import time

    import yaml

    path = web_view.desk.config.directory / "topics" / f"{TOPIC}.yaml"
    topic = yaml.safe_load(path.read_text())

    def title_shown(expected: str) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if web_view.get("/api/topics").json()[0]["title"] == expected:
                return True
            time.sleep(0.2)
        return False

    path.write_text(yaml.safe_dump({**topic, "title": "NK troops (edited)"}))
    assert title_shown("NK troops (edited)")
    path.write_text(yaml.safe_dump({**topic, "title": "Broken", "duplicate_threshold": 7}))
    # Once the view has seen the broken edit (its stamp of the folder moved), it keeps
    # the last valid config.
    from worker.config import config_stamp as _config_stamp

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        title = web_view.get("/api/topics").json()[0]["title"]
        if web_view.desk._config_stamp == _config_stamp(path.parent.parent):
            break
        time.sleep(0.2)
    assert web_view.desk._config_stamp == _config_stamp(path.parent.parent)
    assert title == web_view.get("/api/topics").json()[0]["title"] == "NK troops (edited)"


def test_metrics_count_what_the_store_holds(web_view: Site) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    scrape = web_view.get("/metrics")
    assert scrape.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scrape.text)
        for s in family.samples
    }
    alerts = web_view.get("/api/alerts").json()
    assert samples[("newswatch_alerts_total", (("type", "figure.changed"),))] == len(alerts)
    assert samples[
        ("newswatch_deliveries", (("channel", "desk-webhook"), ("state", "retrying")))
    ] == len(alerts)
    assert samples[("newswatch_corpus_documents", (("topic", TOPIC),))] == len(REPORTS) + 1
    assert samples[("newswatch_feeds_failing", ())] == 0


def test_without_redis_pages_answer_503_saying_so(web_view: Site) -> None:
    from tests.web.conftest import refused_url, serving
    from worker.web import make_desk

    away = refused_url().replace("http://", "redis://").replace("/hook", "/0")
    desk = make_desk(web_view.desk.config, away)
    with serving(desk) as base:
        health = httpx.get(f"{base}/healthz", timeout=60)
        assert health.status_code == 503 and "Connection" in health.json()["redis"]
        for path in ("/", f"/topics/{TOPIC}", "/api/alerts"):
            page = httpx.get(base + path, auth=web_view.auth, timeout=60)
            assert page.status_code == 503, path
            assert page.text.startswith("newswatch: Redis does not answer")
