"""Real Chromium: a page from another site cannot open the embedded broker's websockets.

A Jupyter server runs the embedded broker. A page served by an unrelated web server (one on
``evil.example``, mapped to 127.0.0.1 by Chromium's resolver, and one on another local port)
calls ``new WebSocket(...)`` to the broker and is refused, while a page of the Jupyter server
itself opens the broker's websockets, directly and through the server's ``/dasf/ws`` proxy.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, need_service
from tests.labextension.jupyterserver import JupyterServer

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT = 60_000  # ms

#: opens a websocket from the page and reports how it went
TRY_SOCKET = """url => new Promise(resolve => {
  const ws = new WebSocket(url);
  ws.onopen = () => { ws.close(); resolve('open'); };
  ws.onclose = event => resolve('closed ' + event.code);
})"""


@pytest.fixture
def foreign_site(tmp_path: Path) -> Iterator[int]:
    """A plain web server on another port: the attacker's site."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>some other site</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def jupyter(tmp_path: Path) -> Iterator[JupyterServer]:
    root = tmp_path / "root"
    root.mkdir()
    env = {"DASF_EMBEDDED_BROKER": "1", "DASF_BROKER_URL": "", "DASF_TOKEN": ""}
    server = JupyterServer(root, env=env).start()
    try:
        yield server
    finally:
        server.stop()


def test_foreign_pages_are_refused_and_the_jupyter_page_connects(jupyter, foreign_site):
    need_service("Debian's chromium", CHROMIUM.exists(), "apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    broker = jupyter.get("/dasf/config")["broker_url"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--host-resolver-rules=MAP evil.example 127.0.0.1",
            ],
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT)
            for site in (
                f"http://evil.example:{foreign_site}",
                f"http://127.0.0.1:{foreign_site}",
            ):
                page.goto(f"{site}/index.html")
                for path in ("/mod", "/mod/sub", "/v2/producer/p/public/default/mod"):
                    # Chromium reports a refused handshake as close code 1006
                    assert page.evaluate(TRY_SOCKET, broker + path) == "closed 1006", site
            # a page of the Jupyter server (logged in): its origin is allowed
            page.goto(f"{jupyter.url}/login?token={jupyter.token}")
            assert page.evaluate(TRY_SOCKET, broker + "/mod") == "open"
            assert page.evaluate(TRY_SOCKET, broker + "/mod/sub") == "open"
            proxy = f"ws://127.0.0.1:{jupyter.port}/dasf/ws/mod"
            assert page.evaluate(TRY_SOCKET, proxy) == "open"
            # the foreign page cannot use the proxy either (Jupyter's origin check)
            page.goto(f"http://evil.example:{foreign_site}/index.html")
            assert page.evaluate(TRY_SOCKET, proxy) == "closed 1006"
        finally:
            browser.close()
