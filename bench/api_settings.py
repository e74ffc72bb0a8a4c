"""Settings for bench/api.py's web server: the real settings (read from the environment the
benchmark sets: DEBUG off, a test secret) with a URLconf that adds one trivial view."""

from seedance_web.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
