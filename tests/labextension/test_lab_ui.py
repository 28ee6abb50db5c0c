"""Real JupyterLab + Debian's headless Chromium: the DASF sidebar, the form cell, the form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from tests.conftest import need_service
from tests.labextension.conftest import ROOT
from tests.labextension.jupyterserver import JupyterServer

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "labextension"
TOPIC = "ui-climate"
UI_TIMEOUT = 90_000  # ms; the first Lab load and kernel start are slow on 2 cores


@pytest.fixture
def lab(tmp_path: Path, built_labextension: Path) -> Iterator[JupyterServer]:
    """JupyterLab with our built extension, a broker, and the climate module served on it."""
    need_service("Debian's chromium", CHROMIUM.exists(), "apt-get install -y chromium")
    # Lab finds prebuilt extensions as <path>/<package name>; link ours without installing it
    extensions = tmp_path / "labextensions"
    extensions.mkdir()
    (extensions / "dasf-jupyter-labextension").symlink_to(built_labextension)
    root = tmp_path / "root"
    root.mkdir()
    # frequent pings, so the module shows up online within seconds
    with BrokerProcess(data_dir=tmp_path / "broker", env={"DASF_PING_INTERVAL": "1"}) as broker:
        module = BackendModule.from_path("dasf_jupyter.examples.climate", TOPIC)
        with module.serve_in_background(broker.url):
            server = JupyterServer(
                root,
                app="jupyterlab",
                env={"DASF_BROKER_URL": broker.url, "DASF_EMBEDDED_BROKER": "0", "DASF_TOKEN": ""},
                extra_args=(
                    f"--LabApp.extra_labextensions_path={extensions}",
                    "--LabApp.expose_app_in_browser=True",
                    "--LabApp.news_url=",
                    "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                ),
            )
            server.start()
            try:
                yield server
            finally:
                server.stop()


def _cell_sources(page) -> list[str]:
    return page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets"
        ".map(c => c.model.sharedModel.getSource())"
    )


def test_sidebar_lists_module_online_and_inserts_a_working_form_cell(lab: JupyterServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "failure.png").unlink(missing_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(UI_TIMEOUT)
        try:
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
            page.evaluate(
                "() => window.jupyterapp.commands.execute("
                "'notebook:create-new', {kernelName: 'python3'})"
            )
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            # first cell: load the magics and connect (the kernel inherits DASF_BROKER_URL)
            page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.content.activeCell.model"
                ".sharedModel.setSource('%load_ext dasf_jupyter\\n%dasf connect')"
            )
            page.evaluate(
                "() => window.jupyterapp.commands.execute('notebook:run-cell-and-insert-below')"
            )

            page.click("li.lm-TabBar-tab[data-id='dasf-sidebar']")
            topic = page.locator(f".dasf-Topic[data-topic='{TOPIC}'][data-status='online']")
            topic.wait_for()
            page.screenshot(path=str(ARTIFACTS / "sidebar.png"))
            assert "Add two numbers" in topic.inner_text()

            topic.locator(".dasf-Member[data-member='add'] .dasf-Member-insert").click()
            assert f"%dasf form {TOPIC}.add" in _cell_sources(page)

            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
            run = page.locator(".jp-OutputArea-output .widget-button", has_text="Run")
            run.wait_for()
            page.screenshot(path=str(ARTIFACTS / "form.png"))

            # the code-snippet variant: a new cell calling the function with the Python client
            topic.locator(".dasf-Member[data-member='make_grid'] .dasf-Member-snippet").click()
            snippet = _cell_sources(page)[-1]
            assert f'.module("{TOPIC}")' in snippet
            assert "make_grid(n=4)" in snippet
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))
            raise
        finally:
            browser.close()
