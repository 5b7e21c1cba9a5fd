"""The broker's queue depths, as the API's metrics read them (services/queue.py)."""

import uuid

from core.settings import Settings
from services.placement import QUEUES
from services.queue import Broker


def test_queue_depths_count_the_messages_waiting_under_this_deployments_prefix(redis_url: str):
    prefix = f"depths-{uuid.uuid4().hex[:8]}:"
    ours = Broker(Settings(broker_url=redis_url, broker_key_prefix=prefix))
    assert ours.queue_depths(QUEUES, timeout=2) == {"gpu": 0, "cpu": 0, "any": 0}
    assert ours.send("job-a", "gpu") and ours.send("job-b", "gpu") and ours.send("job-c")

    assert ours.queue_depths(QUEUES, timeout=2) == {"gpu": 2, "cpu": 0, "any": 1}
    theirs = Broker(Settings(broker_url=redis_url, broker_key_prefix=f"other-{prefix}"))
    assert theirs.queue_depths(QUEUES, timeout=2) == {"gpu": 0, "cpu": 0, "any": 0}
