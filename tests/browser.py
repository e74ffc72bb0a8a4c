"""Browser-test helpers: headless Debian Chromium through Playwright, and a worker thread."""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from django.db import connection

from projects.services.sweep import generation_tasks_sweep

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]

requires_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Chromium is not installed (apt-get install chromium)"
)


@contextmanager
def chromium_page(*, enforce_csp: bool = False):
    """A fresh Playwright page in headless Chromium; the site's Content Security Policy is
    bypassed unless `enforce_csp` (tests/test_browser_csp.py)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop on this thread; Django must still allow the
    # ORM here (the test itself is synchronous).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # bypass_csp: Playwright's wait_for_function evaluates strings, which the site's
            # Content Security Policy (rightly) forbids to page scripts.
            page = browser.new_page(
                viewport={"width": 1280, "height": 900}, bypass_csp=not enforce_csp
            )
            page.set_default_timeout(20_000)
            yield page
        finally:
            browser.close()


@contextmanager
def worker_thread():
    """The worker's sweep running on a background thread, as `qcluster` would run it."""
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.is_set():
                generation_tasks_sweep(max_seconds=0.3, concurrency=1, until_idle=True)
                stop.wait(0.1)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="test-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
