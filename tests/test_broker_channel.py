"""A broker channel that outlives its connection (Redis restarted while a task ran) says
so as a lost connection, which a worker recovers from, not as a crash."""

from __future__ import annotations

import pytest
import redis
from kombu import Connection

from worker.celery_app import BrokerTransport


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
