"""A broker channel that outlives its connection (Redis restarted while a task ran) says
so as a lost connection, which a worker recovers from, not as a crash."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection

from worker.celery_app import BrokerTransport, TaskEvents


def test_a_channel_without_its_connection_raises_a_recoverable_error(redis_url: str) -> None:
    connection = Connection(redis_url, transport="worker.celery_app:BrokerTransport")
    try:
        channel = connection.channel()
        assert channel.client.ping()  # a live channel works as kombu's own
        # What a reconnect leaves to a task that ends late: the transport's client gone.
        channel.connection.client = None
        with pytest.raises(redis.exceptions.ConnectionError) as raised:
            channel.basic_reject(1, requeue=False)
        assert isinstance(raised.value, BrokerTransport.connection_errors)
    finally:
        connection.release()


class Dispatcher:
    def __init__(self) -> None:
        self.groups = {"worker"}


def test_task_events_asked_for_by_flower_stay_on_until_no_one_has_listened_for_a_while() -> None:
    """Flower asks for task events (enable_events) before its subscription is in place:
    the next event reaching nobody used to turn them off again at once, and the task it
    announced never showed in Flower (seen in the compose test on a busy machine)."""
    now = [100.0]
    events = TaskEvents(clock=lambda: now[0])
    dispatcher = Dispatcher()
    events.attach(dispatcher)
    dispatcher.groups.add("task")  # Flower's enable_events, by remote control
    events.heard(False)  # the task-received event: Flower not subscribed yet
    assert "task" in dispatcher.groups
    now[0] += 2
    events.heard(True)  # a heartbeat Flower received
    now[0] += TaskEvents.QUIET_FOR - 1
    events.heard(False)
    assert "task" in dispatcher.groups
    now[0] += 2
    events.heard(False)  # nobody for longer than QUIET_FOR: off
    assert "task" not in dispatcher.groups
    events.heard(True)  # a monitor again: on
    assert "task" in dispatcher.groups


def test_a_monitor_that_heard_the_worker_come_online_gets_its_first_task() -> None:
    """The worker-online event is published before the dispatcher is attached."""
    events = TaskEvents()
    events.heard(True)  # worker-online reached a monitor; no dispatcher yet
    dispatcher = Dispatcher()
    events.attach(dispatcher)
    assert "task" in dispatcher.groups
