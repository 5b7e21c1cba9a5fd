"""Why a job failed, in words a user can act on: out of memory, out of time."""

from datetime import timedelta

from models.base import utcnow
from workers.recovery import Deadline, out_of_memory


class ResourceExhaustedError(Exception):
    """Stands in for tensorflow.errors.ResourceExhaustedError, matched by name."""


def test_running_out_of_memory_fails_with_advice():
    advice = out_of_memory(ResourceExhaustedError("OOM when allocating tensor with shape"))
    assert advice is not None
    assert "ran out of memory" in advice
    assert "smaller batch_size" in advice
    assert out_of_memory(MemoryError()) is not None


def test_other_errors_are_not_taken_for_memory():
    assert out_of_memory(ValueError("bad shape")) is None


def test_the_deadline_counts_from_the_first_start_over_all_attempts():
    assert Deadline(utcnow() - timedelta(seconds=120), 60)()
    assert not Deadline(utcnow(), 60)()
    assert not Deadline(None, 60)()
    reason = Deadline(None, 60).reason(3)
    assert "time limit of 60 seconds" in reason and "after epoch 3 is kept" in reason
