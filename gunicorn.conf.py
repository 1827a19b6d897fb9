"""gunicorn reads this file from the directory it starts in (the repository root, /app in the image).

Its access log writes every request line, and a calendar feed's secret is in its path: gunicorn's own
loggers get the same redaction filter as Django's (harvester/logredact.py). The module is loaded by its
path so that gunicorn's master process does not import the harvester package (and Celery) for it.
"""

import importlib.util
from pathlib import Path

from gunicorn.glogging import Logger

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
