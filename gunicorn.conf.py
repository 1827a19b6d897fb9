"""gunicorn's settings for the web process. gunicorn reads this file from the directory it starts in (the
repository root, /app in the image): `gunicorn harvester.wsgi`. Arguments on the command line override it.

Sizes, measured with `manage.py bench_reporting` and `scripts/load` (docs/reporting.md "Speed", docs/load.md):
the app is CPU-bound Python with short database waits. Three single-threaded (sync) worker processes per
core serve both best: the kernel shares the cores between processes fairly, where threads of one process
queue for its interpreter lock behind a long request (with 2 workers x 4 threads the load test's p50s
doubled and the open-lots API did 15% fewer requests per second). Sync workers answer one request at a
time and close the connection after it: run them behind a buffering reverse proxy (nginx, a load
balancer), as gunicorn's documentation advises, so that slow clients do not hold a worker.

Environment: WEB_CONCURRENCY (workers, default three per core), GUNICORN_THREADS (threads per worker,
default 1; above 1, gthread workers), GUNICORN_TIMEOUT (seconds a request may run before its worker is
restarted, default 120: a large import or Form 8949 takes seconds), GUNICORN_KEEPALIVE (gthread only:
seconds an idle keep-alive connection stays open, default 5), GUNICORN_ACCESS_LOG=1 to log each request,
GUNICORN_LOG_LEVEL (default warning).

Logs: the access log writes every request line, and a calendar feed's secret is in its path: gunicorn's own
loggers get the same redaction filter as Django's (harvester/logredact.py). That module is loaded by its
path, so reading this file imports neither the harvester package nor Celery.
"""

import gc
import importlib.util
import os
from pathlib import Path

from gunicorn.glogging import Logger

workers = int(os.environ.get("WEB_CONCURRENCY") or 3 * (os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 120)
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE") or 5)
backlog = 512
# Workers are forked from a master that has already imported Django and the project: they start at
# once and share the imported code's memory.
preload_app = True
# The heartbeat file is written every few seconds by every worker: keep it in memory, not on disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Errors to stderr; one line per request only when asked (it costs a write per request).
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "warning"
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None


def pre_fork(server, worker):
    # In the master, before each worker is forked. A database connection opened while the app was imported
    # must not be inherited: two processes on one connection corrupt it.
    from django.conf import settings

    if settings.configured:  # the app is preloaded
        from django.db import connections
        from django.urls import get_resolver

        # Django imports the URLconf (every view module, DRF, the schema generator) at the first request:
        # do it once here, so that workers share it instead of each paying about a second of CPU.
        get_resolver().check()  # loads url_patterns (and checks them)
        connections.close_all()
    # The imported app's objects live as long as the process: move them out of the collector's reach, so
    # that collections in the workers neither walk them nor copy the memory pages they share.
    gc.freeze()


_spec = importlib.util.spec_from_file_location("harvester_logredact", Path(__file__).with_name("harvester") / "logredact.py")
_logredact = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_logredact)


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(_logredact.RedactSecretsFilter())


logger_class = RedactingLogger
