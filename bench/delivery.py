"""Alert delivery latency: from an event routed by the pipeline to its receipt by a
webhook receiver that verifies the signature, through a real Celery worker on real Redis."""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import median, percentile, write_result
from worker.alerts.events import AlertEvent, from_payload
from worker.demo.servers import WebhookReceiver, verify_signature
from worker.store.embedded import start_redis


def sample_event(event_id: str) -> AlertEvent:
    return from_payload(
        {
            "id": event_id,
            "type": "entity.first_seen",
            "topic": "t",
            "detected_at": "2024-11-13T10:20:00Z",
            "entity": {"id": "x", "names": ["x"]},
            "quote": "q",
            "document": {"id": "0123456789abcdef"},
        }
    )


def main(events: int = 200) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="newswatch-delivery-bench-"))
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    received: dict[str, float] = {}
    arrived = threading.Condition()

    def on_event(event: dict[str, Any]) -> None:
        with arrived:
            received[event.id] = time.perf_counter()
            arrived.notify_all()

    receiver = WebhookReceiver(
        lambda body, headers: verify_signature(secret, headers, body), on_event
    )
    redis_server = start_redis(folder / "redis", append_only=True)
    with receiver:
        config = folder / "config"
        (config / "topics").mkdir(parents=True)
        (config / "topics" / "t.yaml").write_text("id: t\ntitle: T\n")
        (config / "newswatch.yaml").write_text(
            yaml.safe_dump({"data_dir": str(folder / "data"), "allow_private_networks": True})
        )
        (config / "alerts.yaml").write_text(
            yaml.safe_dump(
                {
                    "channels": {
                        "hook": {"type": "webhook", "url": receiver.url, "secret": secret}
                    },
                    "routes": [{"channels": ["hook"]}],
                }
            )
        )
        os.environ["NEWSWATCH_CONFIG_DIR"] = str(config)
        os.environ["NEWSWATCH_REDIS_URL"] = redis_server.url
        from worker import launcher, tasks
        from worker.config import load_config

        settings = load_config(config)
        services = launcher.Services(redis_server.url)
        launcher.start_workers(services, settings, quiet=True)
        try:
            assert launcher.wait_for_worker(60), "worker did not start"
            rt = tasks.runtime()
            sent: dict[str, float] = {}
            for n in range(events):
                event = sample_event(f"evt_bench{n:06d}")
                rt.store.save_event(event)
                sent[event.id] = time.perf_counter()
                tasks._route(rt, event, None)
                with arrived:
                    arrived.wait_for(lambda i=event.id: i in received, timeout=30)
            burst_start = time.perf_counter()
            burst = [f"evt_burst{n:06d}" for n in range(events)]
            for event_id in burst:
                event = sample_event(event_id)
                rt.store.save_event(event)
                tasks._route(rt, event, None)
            with arrived:
                arrived.wait_for(lambda: all(i in received for i in burst), timeout=120)
            burst_seconds = max(received[i] for i in burst) - burst_start
        finally:
            launcher.stop_children(services)
            redis_server.stop()
    latencies = [(received[i] - sent[i]) * 1000 for i in sent if i in received]
    figures = {
        "events": events,
        "delivered": len(latencies),
        "latency_ms_median": round(median(latencies), 1),
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "latency_ms_p99": round(percentile(latencies, 0.99), 1),
        "burst_events": len(burst),
        "burst_seconds": round(burst_seconds, 2),
        "burst_events_per_second": round(len(burst) / burst_seconds, 1),
    }
    print(
        f"delivery: median {figures['latency_ms_median']} ms, p95 "
        f"{figures['latency_ms_p95']} ms from event to verified receipt; burst of "
        f"{len(burst)}: {figures['burst_events_per_second']} events/s"
    )
    write_result("delivery", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
