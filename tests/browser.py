"""Real-browser tests: the whole portal on a socket, and headless Chromium driving it.

Skipped, with the reason, where no Chromium is installed (`.ci/run` installs Debian's).
Request the data fixture before `live_portal`: the server thread sees committed rows only.
"""

import shutil

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# The closed network refuses Chromium's background connections; keep it from trying.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class JoinedWSGIServer(ThreadedWSGIServer):
    # Closing the server waits for its request threads, so none still holds a database
    # connection when the test database is dropped.
    daemon_threads = False
    block_on_close = True


class PortalThread(LiveServerThread):
    server_class = JoinedWSGIServer


@pytest.fixture
def live_portal(django_db_setup, django_db_blocker):
    """The whole portal (middleware, RLS identity, admin, static files) on a real socket."""
    with django_db_blocker.unblock():
        server = PortalThread("127.0.0.1", StaticFilesHandler)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield f"http://127.0.0.1:{server.port}"
        server.terminate()


@pytest.fixture
def page():
    if not CHROMIUM:
        pytest.skip("no Chromium found: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()
