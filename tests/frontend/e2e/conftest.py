"""Headless Chromium (Debian's, driven by Playwright) against a live server on a real database.

Every test here is marked ``browser``. Without /usr/bin/chromium the tests skip on a
developer machine and fail in CI (``CI=true``), where ``make test`` installs it.
"""

import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}


def pytest_collection_modifyitems(items):
    for item in items:
        if Path(__file__).parent in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def _shared_chromium(live_server):
    """One Chromium for the whole package: launching one per test cost 2-3 s each.

    Playwright's sync API keeps an asyncio loop running in this thread from here to the end
    of the package, so Django's async-safety check is relaxed for as long (the tests' own ORM
    calls are plain and synchronous). The database is set up (by ``live_server``) before the
    loop starts. Tests get fresh contexts of it (``browse``), so nothing but the process is
    shared.
    """
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing; `make test` installs Debian's chromium."
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before
        connections.close_all()


@pytest.fixture
def chromium(_shared_chromium, live_server, settings):
    """The package's browser for one test; every context it opened is closed after it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield _shared_chromium
    for context in _shared_chromium.contexts:
        context.close()
    # While Playwright's loop runs, Django gives this thread other connections than the ones
    # it set the database up with; left open, they would keep PostgreSQL from dropping the
    # test database (or a test's flush from running).
    connections.close_all()


@pytest.fixture
def browse(chromium, live_server):
    """browse(user) -> a page in a fresh browser context signed in as ``user``."""
    contexts = []

    def open_as(user):
        context = chromium.new_context(viewport=VIEWPORT, base_url=live_server.url)
        contexts.append(context)
        if user is not None:
            session = SessionStore()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session.session_key,
                        "url": live_server.url,
                    }
                ]
            )
        page = context.new_page()
        # Waits end as soon as their condition holds; the limit is only for a page that never
        # gets there, and generous so that a loaded machine does not fail the test.
        page.set_default_timeout(60_000)
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def worker(monkeypatch, settings):
    """Runs every job requested, one at a time in a thread, as a single worker would, while
    the page that asked for it follows its progress."""
    from workers.services import jobs as job_services
    from workers.services.job_run import job_run

    settings.ATLAS_PROGRESS_MIN_INTERVAL_SECONDS = 0
    settings.ATLAS_RENDER_BATCH_SIZE = 2
    one_at_a_time = threading.Lock()
    threads = []

    def run(job_id):
        try:
            with one_at_a_time:
                job_run(job_id=job_id)
        finally:
            connection.close()

    def enqueue(job_id, countdown=None):
        thread = threading.Thread(target=run, args=(job_id,), daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr(job_services, "_enqueue_after_commit", enqueue)
    yield
    for thread in threads:
        thread.join(timeout=120)
