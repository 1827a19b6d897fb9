"""The session engine (settings.SESSION_ENGINE): Django's database sessions, read with one plain query.

Every logged-in request reads its session first. Django's store reads it through the ORM, whose query
took longer to build than PostgreSQL took to answer it; this store reads the same row (an unexpired
session with this key) in plain SQL and decodes it as Django does. Writing, expiry and clearing are
Django's own."""

from functools import cache

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from harvester.rawsql import columns


@cache
def _read(model) -> tuple[list[str], str]:
    """The columns read (expire_date is left deferred) and the statement, made once per model."""
    names, select = columns(model, "s", ("session_key", "session_data"))
    return names, f"SELECT {select} FROM {model._meta.db_table} s WHERE s.session_key = %s AND s.expire_date > %s"


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        model = self.model
        alias = router.db_for_read(model)
        names, sql = _read(model)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model.from_db(alias, names, row)
