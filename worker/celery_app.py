"""The Celery app: broker, reliability and schedule settings, set once here.

- Late acks and reject-on-worker-lost (both off by default in Celery), prefetch 1: a task
  whose worker dies is delivered again, and a worker holds one message at a time.
- The Redis visibility timeout is longer than the longest task, in the broker and the
  result backend's transport options both, so a long task is not handed out twice.
- Task events (started, finished) while a monitor such as Flower listens, so it sees every
  task with its name; none are published when no one does.
- Beat runs one task, `newswatch.tick`, which enqueues whatever is *due according to
  state in Redis*: beat advances its own schedule before publishing and never catches up,
  so a tick lost while Redis is away is simply made up by the next one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from celery import Celery, Task, signals
from celery.exceptions import SoftTimeLimitExceeded
from kombu.transport.redis import Channel as RedisChannel
from kombu.transport.redis import Transport as RedisTransport
from kombu.utils import json as kombu_json

from worker import logs
from worker.config import Config, ServiceSettings, default_config_dir, load_service
from worker.errors import ConfigError
from worker.terminal import guard_handlers

log = logging.getLogger(__name__)
QUEUE = "newswatch"
IO_QUEUE = "newswatch.io"
TICK = "newswatch.tick"
SOFT_LIMIT_SHARE = 0.8
MAX_MEMORY_PER_CHILD_KB = 400 * 1024


def redis_url_for(config: Config) -> str:
    return _redis_url(config.service, config.directory)


def _redis_url(service: ServiceSettings, directory: Path) -> str:
    url = os.environ.get("NEWSWATCH_REDIS_URL") or service.redis_url
    if not url:
        raise ConfigError(
            [
                f"{directory / 'newswatch.yaml'}: redis_url: no Redis URL is configured "
                "(set NEWSWATCH_REDIS_URL, or use `newswatch run`, which starts an embedded one)"
            ]
        )
    return url


def celery_settings(service: ServiceSettings, redis_url: str) -> dict[str, Any]:
    visibility_timeout = max(3600, int(service.task_time_limit * 4))
    transport = {"visibility_timeout": visibility_timeout}
    return {
        "broker_url": redis_url,
        "broker_transport": "worker.celery_app:BrokerTransport",
        "result_backend": redis_url,
        "broker_transport_options": transport,
        "result_backend_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # A safety net, not a budget: a prefork child whose resident memory (its peak RSS,
        # pages shared with the parent included; ~180 MB in the load run) passed this is
        # replaced by a fresh fork once its task is done. Never reached by normal work.
        "worker_max_memory_per_child": MAX_MEMORY_PER_CHILD_KB,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_time_limit": service.task_time_limit,
        # The soft limit leaves a fifth of the time to record how the step ended.
        "task_soft_time_limit": service.task_time_limit * SOFT_LIMIT_SHARE,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": 86400,
        "task_ignore_result": True,
        "task_track_started": True,
        # Task events only while a monitor listens (`TaskEvents`): each costs a publish.
        "task_send_sent_event": False,
        "worker_send_task_events": False,
        "task_default_queue": QUEUE,
        # Feed polls and deliveries wait on the network: a thread pool serves them so one
        # slow server holds one thread, not a process. Article processing is CPU-bound
        # (extraction, signals) and runs in the prefork pool.
        "task_routes": {
            TICK: {"queue": IO_QUEUE},
            "newswatch.poll_feed": {"queue": IO_QUEUE},
            "newswatch.deliver": {"queue": IO_QUEUE},
            "newswatch.process_entries": {"queue": QUEUE},
            "newswatch.process_entry": {"queue": QUEUE},
        },
        "timezone": "UTC",
        "beat_schedule": {
            "newswatch-tick": {"task": TICK, "schedule": service.tick_interval},
        },
    }


_configured: dict[str, Any] | None = None


def configure(config: Config, redis_url: str) -> None:
    """Point this process's app at `redis_url` with `config`'s settings (CLI, demo, tests):
    a process that sends tasks says where, instead of writing its own environment."""
    global _configured
    _configured = celery_settings(config.service, redis_url)
    app.conf.update(_configured)


def _lazy_settings() -> dict[str, Any]:
    # Evaluated when Celery first reads its configuration, never at import time. Worker
    # processes started by `newswatch run` learn their config from their environment.
    # Only the service settings: Flower, beat and `newswatch health` need no feeds,
    # topics or alert secrets (workers load the whole config when they run a task).
    if _configured is not None:
        return _configured
    directory = default_config_dir()
    service = load_service(directory)
    return celery_settings(service, _redis_url(service, directory))


# Transient failures of Redis (gone, or full under `maxmemory`), of the disk, or a step
# that ran past the soft time limit (the machine may be busy): the task is retried with
# backoff. What still fails after the retries is recorded as a failure of its entry.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.OutOfMemoryError,
    OSError,
    SoftTimeLimitExceeded,
)


class TaskEvents:
    """Task events (sent, started, succeeded...) only while someone listens: Flower, or
    `celery events`. A worker publishes its own worker events (online, then a heartbeat
    every 2 s) whatever happens; Redis says how many subscribers received each, and the
    worker turns its task events on when one did and off once none has for `QUIET_FOR`
    seconds. Flower also asks every worker to turn them on every 5 s (its
    `enable_events`): that counts as hearing it, since Flower asks before its subscription
    is in place, and an event reaching nobody just then must not turn them off again."""

    # Longer than Flower's 5 s between two requests and two heartbeats.
    QUIET_FOR = 12.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.dispatcher: Any = None
        self.clock = clock
        self.on = False  # task events, as this worker last set them
        self.last_heard = float("-inf")

    def attach(self, dispatcher: Any) -> None:
        """The worker's event dispatcher, once it is ready (the worker's main process)."""
        self.dispatcher = dispatcher
        self.heard(False)

    def heard(self, listening: bool) -> None:
        now = self.clock()
        groups = getattr(self.dispatcher, "groups", None)
        if listening:
            self.last_heard = now
        if not groups:  # no dispatcher yet, or every group on (`-E`): nothing to switch
            return
        if "task" in groups and not self.on:  # a monitor asked (Flower's enable_events)
            self.on, self.last_heard = True, now
        # Recent: also what the worker's own online event heard, before `attach`.
        recent = now - self.last_heard < self.QUIET_FOR
        if recent and not self.on:
            groups.add("task")
            self.on = True
            log.info("task events on: a monitor (Flower) is listening")
        elif self.on and not recent:
            groups.discard("task")
            self.on = False
            log.info("task events off: no monitor is listening")


task_events = TaskEvents()
EVENTS_EXCHANGE = "celeryev"


class WatchedChannel(RedisChannel):
    """Kombu's Redis channel, telling `task_events` whether an event reached anyone, and
    saying "connection lost" when it has outlived its connection."""

    def _connparams(self, asynchronous: bool = False) -> Any:
        # A task that ends while the worker reconnects (Redis restarted) acks or rejects
        # its message on the old channel, whose connection is gone: kombu then fails with
        # an AttributeError and the worker exits ("Unrecoverable error"). As the lost
        # connection it is, the worker reconnects, and the unacked message is restored.
        if self.connection is None or self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker channel outlived its connection")
        return super()._connparams(asynchronous)  # type: ignore[no-untyped-call]

    def _put_fanout(self, exchange: str, message: Any, routing_key: str, **kwargs: Any) -> None:
        if exchange != EVENTS_EXCHANGE or kwargs.get("_publish_batch") is not None:
            super()._put_fanout(exchange, message, routing_key, **kwargs)  # type: ignore[no-untyped-call]
            return
        payload = kombu_json.dumps(message)  # type: ignore[no-untyped-call]
        with self.conn_or_acquire() as client:
            receivers = sum(
                client.publish(topic, payload)
                for topic in self._get_publish_topics(exchange, routing_key)  # type: ignore[no-untyped-call]
            )
        task_events.heard(receivers > 0)


class BrokerTransport(RedisTransport):
    """Kombu's Redis transport, with Redis out of memory (`maxmemory` under `noeviction`)
    taken as a lost connection: a worker then logs the cause and reconnects until memory
    is freed, where it would otherwise exit ("Unrecoverable error"); its channel tells
    whether worker events reach a monitor (`TaskEvents`)."""

    Channel = WatchedChannel
    connection_errors = (*RedisTransport.connection_errors, redis.exceptions.OutOfMemoryError)


def _attach_task_events(sender: Any = None, **_: Any) -> None:
    task_events.attach(getattr(sender, "event_dispatcher", None))


signals.worker_ready.connect(_attach_task_events, weak=False)


class NewswatchTask(Task):  # type: ignore[misc]
    """The retry policy of every newswatch task, set once."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 5
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 10


app = Celery("newswatch", include=["worker.tasks"], task_cls=NewswatchTask)
app.add_defaults(_lazy_settings)


@dataclass(frozen=True)
class WorkerKind:
    """One of the two workers newswatch runs: what it consumes, with which pool."""

    queue: str
    pool: str
    concurrency: int


WORKER_KINDS = {
    # Article processing is CPU-bound: processes.
    "worker": WorkerKind(QUEUE, "prefork", 2),
    # Feed polls and deliveries wait on the network: one slow server holds one thread.
    "poller": WorkerKind(IO_QUEUE, "threads", 16),
}


def run_worker(kind: str, node: str, concurrency: int | None, loglevel: str) -> int:
    """Run a worker of `kind` (WORKER_KINDS) named `node` (`%h`: this host's name) in this
    process until it is stopped; its exit code.

    What `celery worker` does, without Celery's command line: that imports every one of
    its sub-commands and their plug-ins (Flower, a REPL), some 13 MB in each process.
    """
    from celery.utils.nodenames import default_nodename, host_format

    chosen = WORKER_KINDS[kind]
    worker = app.Worker(
        hostname=host_format(default_nodename(node)),
        pool_cls=chosen.pool,
        concurrency=concurrency or chosen.concurrency,
        loglevel=loglevel,
        queues=[chosen.queue],
        # No other worker needs this one's clock or revoked tasks, learned from its peers.
        without_gossip=True,
        without_mingle=True,
    )
    worker.start()
    return int(worker.exitcode or 0)


def run_beat(schedule: str, loglevel: str) -> int:
    """Run beat in this process until it is stopped, as `celery beat` does without Celery's
    command line (14 MB less)."""
    app.Beat(schedule=schedule, loglevel=loglevel, quiet=True).run()
    return 0


class QuietTick(logging.Filter):
    """Celery's own INFO lines about the tick (beat sending it, the worker receiving it and
    its success) become DEBUG: an idle service would write three of them every tick."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not _about_tick(record.args):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def _about_tick(args: object) -> bool:
    # Celery passes a task's log context as one mapping (received, succeeded) and beat the
    # entry's name and task as a tuple.
    if isinstance(args, Mapping):
        return args.get("name") == TICK
    return isinstance(args, tuple) and TICK in args


# The loggers of those three lines: beat's, the worker's message strategy and the tracer.
QUIETED_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


def _quiet_the_tick(logger: logging.Logger | None = None, **_: Any) -> None:
    guard_handlers(logger or logging.getLogger())
    for name in QUIETED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietTick) for f in logger.filters):
            logger.addFilter(QuietTick())


# Once the worker's or beat's logging is set up (Celery signal, in both processes).
signals.after_setup_logger.connect(_quiet_the_tick, weak=False)


def _log_format(logger: logging.Logger | None = None, **_: Any) -> None:
    """Workers and beat log as `log_format` says (text, or one JSON object per line)."""
    try:
        log_format = load_service().log_format
    except ConfigError:
        log_format = "text"
    logs.use_format(logger or logging.getLogger(), log_format)


signals.after_setup_logger.connect(_log_format, weak=False)
signals.after_setup_task_logger.connect(_log_format, weak=False)
