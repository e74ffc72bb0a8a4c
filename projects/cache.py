"""A database cache whose increment is atomic, for the rate-limit counters.

Django's DatabaseCache increments by get-then-set, so two requests at once can both read 4 and
both write 5: a rate limit would let extra attempts through (django-ratelimit's check E003
says as much). Here `incr` reads the row under a lock and writes it in one transaction:
`SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the transaction starts IMMEDIATE (settings),
which takes the database's write lock before the read. Used when REDIS_URL is not set.
"""

from __future__ import annotations

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, models, router, transaction
from django.utils import timezone

# How Django's DatabaseCache reads the `expires` column back into an aware datetime.
_DATETIME = models.Expression(output_field=models.DateTimeField())


class AtomicDatabaseCache(DatabaseCache):
    """DatabaseCache with an atomic `incr` (see the module docstring)."""

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Add `delta` to the integer stored at `key` and return the new value. Raises
        ValueError when the key is missing or expired (as Django's caches do)."""
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')}, {quote('expires')} FROM {table} "
                f"WHERE {quote('cache_key')} = %s{lock}",
                [key],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            expires = row[1]
            for converter in connection.ops.get_db_converters(
                _DATETIME
            ) + _DATETIME.get_db_converters(connection):
                expires = converter(expires, _DATETIME, connection)
            if expires < timezone.now().replace(microsecond=0):
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s WHERE {quote('cache_key')} = %s",
                [encoded, key],
            )
        return value
