"""``descent serve``: the API and, by default, one training worker on this machine.

The recovery sweep runs in the app's lifespan (api/app.py), as under any other ASGI server.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import sys

from core import logs
from core.settings import PROJECT_ROOT, Settings


def refusal(settings: Settings) -> str | None:
    """Why the server must not start with these settings, or None."""
    if settings.auth == "required" or loopback(settings.host) or settings.allow_open_network:
        return None
    return (
        f"refusing to serve on {settings.host} with auth off: anyone who can reach it could "
        "train, read and delete. Set DESCENT_AUTH=required and create keys with `descent "
        "keys create`, bind 127.0.0.1, or set DESCENT_ALLOW_OPEN_NETWORK=1 if you mean it."
    )


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(settings: Settings, *, worker: bool = True) -> None:
    """Migrate the database, start the worker (if asked) and serve until SIGTERM or SIGINT."""
    import uvicorn

    from api.app import create_app
    from processes import http, migrate
    from processes.embedded import Worker
    from workers import devices

    logs.configure(settings.log_format)
    # What this process and its worker write (database, broker, artifacts) is theirs alone.
    os.umask(0o077)
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    # The worker and anything else started from here read the same state directory.
    os.environ["DESCENT_HOME"] = str(settings.resolved_home)
    migrate.upgrade(settings.resolved_database_url)

    gpus = devices.count_gpus() if worker else 0
    if gpus and "DESCENT_GPU_QUEUES_AVAILABLE" not in os.environ:
        os.environ["DESCENT_GPU_QUEUES_AVAILABLE"] = "true"
        settings = settings.model_copy(update={"gpu_queues_available": True})
    child = Worker(settings, PROJECT_ROOT, gpus) if worker else None
    if child:
        child.start()
    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then re-raises the signal with the
    # handler it found; this one turns it into SystemExit so the worker is stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    open_files = http.raise_open_file_limit()
    max_connections = http.connection_cap(settings, open_files)
    logging.getLogger("descent.http").info(
        "at most %d connections (open-file limit %d), headers in %gs, bodies idle %gs",
        max_connections,
        open_files,
        settings.header_timeout_seconds,
        settings.body_timeout_seconds,
    )
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            # Header and body read timeouts and the connection cap (processes/http.py).
            http=http.guarded_protocol(settings, max_connections),
            timeout_keep_alive=settings.keep_alive_seconds,
            log_level="info",
            access_log=settings.access_log,
            # uvicorn's loggers keep no handlers of their own: their records reach the root
            # handler set up above, in the same format and with the request's fields.
            log_config=None,
        )
    finally:
        if child:
            child.stop()
