"""Test settings: the real settings module, read with a test environment, plus tiny overrides.

Each pytest-xdist worker gets its own scratch directory (SQLite file, media, simulator cache).
"""

import hashlib
import os
import tempfile

# One scratch directory per checkout and per xdist worker, so test runs never share files.
_checkout = hashlib.sha1(os.path.dirname(os.path.abspath(__file__)).encode()).hexdigest()[:8]
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
_scratch = os.path.join(tempfile.gettempdir(), f"seedance-web-tests-{_checkout}-{_worker}")
os.environ["SEEDANCE_VAR_DIR"] = _scratch  # not setdefault: xdist workers inherit the parent's
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("TOKENHUB_API_KEY", "th-test-key-0000")
os.environ.setdefault("TOKENHUB_BASE_URL", "http://127.0.0.1:9/tokenhub/api/v1")
# The simulator and the test media servers serve plain http on loopback; tests of the outbound
# guard itself list other hosts (tests/test_outbound.py).
os.environ.setdefault("SEEDANCE_FETCH_ALLOW_HOSTS", "127.0.0.1,localhost")

from seedance_web.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Test-only switches, absent from production settings (their readers default to off): jobs run
# at once in the calling process (a worker process of the scale-out tests sets it to 0), and
# the named step where a worker process SIGKILLs itself (projects/crashpoints.py).
SEEDANCE_JOBS_INLINE = os.environ.get("SEEDANCE_JOBS_INLINE", "1") == "1"
SEEDANCE_CRASHPOINT = os.environ.get("SEEDANCE_CRASHPOINT", "")
# The test simulator runs 200x faster than a real gateway (tests/conftest.py).
SEEDANCE_UPSTREAM_TIME_SCALE = 1 / 200
# Nothing serves SITE_URL in most tests; the callback tests turn this on with a live server.
SEEDANCE_CALLBACKS = False
SEEDANCE_RECONCILE_AFTER = 0.5
SEEDANCE_HTTP_TIMEOUT = 5.0
SEEDANCE_DOWNLOAD_TIMEOUT = 5.0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not :memory:, so the live server, worker threads and tests share one database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(_scratch, "test.sqlite3")}  # noqa: F405
    # The live server answers each request on a new thread: no connection to keep.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
