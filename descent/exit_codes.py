"""What ``descent``'s exit status says, in one place: scripts branch on these numbers."""

from __future__ import annotations

import enum

from descent.client import ApiError


class ExitCode(enum.IntEnum):
    """``descent``'s exit statuses (also listed in ``descent --help`` and docs/cli.md)."""

    ok = 0
    job_failed = 1  # the job (or a batch job) ended failed
    usage = 2  # a bad option or argument, or a local file that cannot be read (as click does)
    bad_request = 3  # the server refused the request: a 4xx problem (bad spec, unknown id, ...)
    job_cancelled = 4  # the job (or batch) ended cancelled
    unreachable = 5  # no answer from the server (not running, wrong --url, network down)
    server_error = 6  # the server failed: a 5xx problem

    @classmethod
    def for_error(cls, error: ApiError) -> ExitCode:
        """The status a failed request ends the command with."""
        if error.status is None:
            return cls.unreachable
        if error.status >= 500:
            return cls.server_error
        return cls.bad_request

    @classmethod
    def for_status(cls, status: str) -> ExitCode:
        """The status a watched job or batch ends the command with, by the way it ended."""
        return {"failed": cls.job_failed, "cancelled": cls.job_cancelled}.get(status, cls.ok)


HELP = "\n".join(
    [
        "Exit status:",
        "0 ok;",
        "1 the job (or a batch's job) failed;",
        "2 usage error, or a local file that cannot be read;",
        "3 the server refused the request (4xx: a bad spec, an unknown id, ...);",
        "4 the job (or batch) was cancelled;",
        "5 the server cannot be reached;",
        "6 the server failed (5xx).",
        "Server and key: --url/--api-key-file, then DESCENT_URL/DESCENT_API_KEY(_FILE), then "
        "a profile of ~/.config/descent/config.toml (--profile, DESCENT_PROFILE).",
    ]
)
