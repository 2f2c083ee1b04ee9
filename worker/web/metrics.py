"""`/metrics` in Prometheus's text format, read from the store at each scrape.

Every worker adds to the same counters in Redis (`Store.add_counts`, the task duration
histogram), so one scrape of the web view shows the work of all of them, and a restarted
web view loses nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from worker.celery_app import IO_QUEUE, QUEUE
from worker.store import TASK_BUCKETS, TaskMeasure
from worker.web.desk import Desk, channel_delivery

# Counts of `Store.add_counts` and what they are called here. Every outcome an entry
# can have for a topic, so that they add up to the entries processed.
ENTRY_OUTCOMES = ("documents", "revisions", "copies", "off_topic", "unchanged", "empty")


class StoreCollector(Collector):
    """Reads the store's counters and logs when Prometheus scrapes."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        # Events never change once stored: their types are read once per web process.
        self._event_types: dict[str, str] = {}

    def collect(self) -> Iterator[Metric]:
        store = self.desk.store
        stats = store.stats()
        polls = CounterMetricFamily(
            "newswatch_polls", "Feed polls by outcome status.", labels=["status"]
        )
        for name, value in sorted(stats.items()):
            if name.startswith("polls_"):
                polls.add_metric([name.removeprefix("polls_")], value)
        yield polls
        yield CounterMetricFamily(
            "newswatch_entries", "New feed entries handed on for processing.",
            value=stats.get("entries", 0),
        )  # fmt: skip
        yield CounterMetricFamily(
            "newswatch_documents", "Documents written to a topic's corpus.",
            value=stats.get("documents", 0),
        )  # fmt: skip
        yield CounterMetricFamily(
            "newswatch_duplicates", "Articles recorded as copies of a document already held.",
            value=stats.get("copies", 0),
        )  # fmt: skip
        outcomes = CounterMetricFamily(
            "newswatch_entry_outcomes",
            "What each processed entry became for each topic.",
            labels=["outcome"],
        )
        for outcome in ENTRY_OUTCOMES:
            outcomes.add_metric([outcome], stats.get(outcome, 0))
        yield outcomes
        yield from self._alerts()
        depth = GaugeMetricFamily(
            "newswatch_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for queue, waiting in store.queue_depths([QUEUE, IO_QUEUE]).items():
            depth.add_metric([queue], waiting)
        yield depth
        bounds = [*(repr(b) for b in TASK_BUCKETS), "+Inf"]
        histograms: tuple[tuple[TaskMeasure, str, str], ...] = (
            ("duration", "newswatch_task_duration_seconds",
             "How long each task ran, from its start to its end, in any worker."),
            ("wait", "newswatch_task_wait_seconds",
             "How long each task waited, from its publication to its start (queue latency)."),
        )  # fmt: skip
        for measure, name, text in histograms:
            histogram = HistogramMetricFamily(name, text, labels=["task"])
            for task, times in sorted(store.task_times(measure).items()):
                cumulative, buckets = 0, []
                for bound, count in zip(bounds, times.counts, strict=True):
                    cumulative += count
                    buckets.append((bound, cumulative))
                histogram.add_metric([task], buckets, times.total_seconds)
            yield histogram
        feeds = self.desk.feeds()
        yield GaugeMetricFamily(
            "newswatch_feeds_failing", "Configured feeds whose last poll failed.",
            value=sum(1 for f in feeds if f.consecutive_errors),
        )  # fmt: skip
        corpus = GaugeMetricFamily(
            "newswatch_corpus_documents", "Documents held in each topic's corpus.",
            labels=["topic"],
        )  # fmt: skip
        for topic in self.desk.config.topics.values():
            self.desk.refresh_index(topic)
            corpus.add_metric([topic.id], self.desk.index.count(topic.id))
        yield corpus

    def _alerts(self) -> Iterator[Metric]:
        store = self.desk.store
        types: Counter[str] = Counter()
        states: Counter[tuple[str, str]] = Counter()
        ids = store.event_ids()
        unknown = [i for i in ids if i not in self._event_types]
        for event in store.events_by_id(unknown):
            self._event_types[event.id] = event.type
        for event_id, channels in store.deliveries_of(ids).items():
            if event_id in self._event_types:
                types[self._event_types[event_id]] += 1
            for channel, delivery in channels.items():
                states[(channel, channel_delivery(channel, delivery).state)] += 1
        alerts = CounterMetricFamily("newswatch_alerts", "Alert events by type.", labels=["type"])
        for kind, count in sorted(types.items()):
            alerts.add_metric([kind], count)
        yield alerts
        deliveries = GaugeMetricFamily(
            "newswatch_deliveries",
            "Deliveries of alert events by channel and state.",
            labels=["channel", "state"],
        )
        for (channel, state), count in sorted(states.items()):
            deliveries.add_metric([channel, state], count)
        yield deliveries


def registry_for(desk: Desk) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(desk))
    return registry
