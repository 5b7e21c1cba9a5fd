"""When a watch reconnects to a job's event stream, and when it stops: only the server's 204
says that no event will follow. A stream that just stops, even one that sent nothing while the
job already reads as finished, may have been cut short by an API process shutting down.

The client here is a stand-in that answers each connection as the test scripts it; what is
under test is the watch's own logic (the real stream is in test_watch.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from descent.client import Epoch, History, Job
from descent.sse import Event
from descent.watch import JobUpdate, stream_job

JOB_ID = "job-1"
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def job(status: str) -> Job:
    path = ["queued", "running"] + ([status] if status != "running" else [])
    transitions = [{"status": s, "at": NOW} for s in path]
    return Job(
        id=JOB_ID, status=status, spec={"epochs": 2}, created_at=NOW, transitions=transitions
    )


def status(event_id: int, value: str) -> Event:
    return Event(event_id, "status", {"status": value, "at": NOW.isoformat()})


def epoch(event_id: int, number: int) -> Event:
    return Event(event_id, "epoch", {"epoch": number, "loss": 1.0 / (number + 1)})


@dataclass
class Connection:
    """One connection's answer: its events, then the stream ends; ``done`` is a 204."""

    events: list[Event] = field(default_factory=list)
    done: bool = False

    def __iter__(self):
        return iter(self.events)


class Server:
    """The client's view of the API: each connection to the stream is answered in turn, and a
    read of the job gives the next of ``reads`` (the last one from then on)."""

    def __init__(self, connections: list[Connection], reads: list[str]) -> None:
        self.connections, self.reads = connections, reads
        self.resumed_after: list[int | None] = []

    def get_job(self, job_id: str) -> Job:
        return job(self.reads.pop(0) if len(self.reads) > 1 else self.reads[0])

    def job_events(self, job_id: str, *, last_event_id: int | None = None) -> Connection:
        self.resumed_after.append(last_event_id)
        return self.connections.pop(0)

    def history(self, job_id: str) -> History:
        epochs = [Epoch(epoch=0, loss=1.0), Epoch(epoch=1, loss=0.5)]
        return History(job_id=job_id, status=self.reads[-1], epochs=epochs)


def watch(server: Server) -> list[JobUpdate]:
    return list(stream_job(server, JOB_ID, sleep=lambda _: None))  # type: ignore[arg-type]


def test_a_stream_closed_with_nothing_sent_while_the_job_reads_finished_is_resumed():
    """An API process shut down mid-stream before it sent anything, and by then another one
    reads the job as succeeded: its last epoch and its end are still to be told."""
    log = [status(1, "queued"), status(2, "running"), epoch(3, 0)]
    server = Server(
        [
            Connection(log),  # the stream ends: that API process is shutting down
            Connection(),  # so is this one, before it sends anything
            Connection([epoch(4, 1), status(5, "succeeded")]),
        ],
        reads=["running", "succeeded"],
    )
    updates = watch(server)

    assert [u.recorded.epoch for u in updates if u.recorded] == [0, 1]
    told = [update.job.status for update in updates if not update.recorded]
    assert told == ["running", "succeeded", "succeeded"]  # as it was, as it ended, read again
    assert server.resumed_after == [None, 3, 3]


def test_the_servers_204_ends_the_watch_with_the_job_as_it_ended():
    log = [status(1, "queued"), status(2, "running"), epoch(3, 0)]
    server = Server([Connection(log), Connection(done=True)], reads=["running", "succeeded"])
    updates = watch(server)

    assert updates[-1].job.status == "succeeded"
    assert [e.epoch for e in updates[-1].epochs] == [0, 1]  # the job's history, read at the end
    assert server.resumed_after == [None, 3] and server.connections == []
