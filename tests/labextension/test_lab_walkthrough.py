"""A new user's first ten minutes in real JupyterLab + Debian's chromium, with screenshots.

Walks ``notebooks/basic.ipynb`` (run all) and a fresh notebook: connect, serve a cell with
``%%dasf module``, a form with a Literal, a datetime, an Optional and a required float, Run
with the required field empty, Run filled in, and a remote error. It asserts what the user
sees and stores screenshots in ``test-artifacts/labextension/walkthrough/``.

``DASF_UI_SOFT=1`` turns the checks into a list printed at the end, so that the same walk
takes "before" screenshots of older code (the checks then show what that code got wrong).
``DASF_SCREENSHOT_TAG`` prefixes the file names (default ``after``).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.labextension import test_lab_ui as lab_ui
from tests.labextension.conftest import ROOT
from tests.labextension.jupyterserver import JupyterServer

pytestmark = [pytest.mark.chromium, pytest.mark.slow, pytest.mark.timeout(900)]

SHOTS = lab_ui.ARTIFACTS / "walkthrough"
TAG = os.environ.get("DASF_SCREENSHOT_TAG", "after")
SOFT = os.environ.get("DASF_UI_SOFT") == "1"
RUN_TIMEOUT = 120_000  # ms; a whole notebook with a kernel start on 2 busy cores
TOPIC = "walk-forecast"

# the ``lab`` fixture (Lab + broker + a module served) is shared with test_lab_ui
lab = lab_ui.lab

MODULE_CELL = f'''%%dasf module {TOPIC}
"""Wind forecasts for two sites."""
import datetime as dt
from typing import Literal, Optional

import numpy as np
import xarray as xr


def forecast(
    wind_kmh: float,
    site: Literal["north", "south"],
    start: dt.datetime,
    note: Optional[str] = None,
    days: int = 3,
) -> xr.DataArray:
    """Hourly wind speed for a few days.

    Parameters
    ----------
    wind_kmh : float
        mean wind speed [km/h]
    site : str
        where to forecast
    start : datetime
        first hour of the forecast
    note : str, optional
        free text kept with the result
    days : int
        number of days
    """
    hours = np.arange(24 * days)
    time = np.datetime64(start.replace(tzinfo=None), "h") + hours.astype("timedelta64[h]")
    speed = wind_kmh * (1 + 0.3 * np.sin(2 * np.pi * hours / 24))
    return xr.DataArray(
        speed, coords={{"time": time}}, dims="time", name="wind",
        attrs={{"units": "km/h", "long_name": f"wind speed at {{site}}", "note": note or ""}},
    )


def gust_factor(wind_kmh: float, gust_kmh: float) -> float:
    """Ratio of gust to mean wind."""
    if wind_kmh <= 0:
        raise ValueError(f"wind_kmh must be positive, got {{wind_kmh}}")
    return gust_kmh / wind_kmh
'''


#: line of the ``raise`` in the cell body (the ``%%dasf`` line is not part of the module)
RAISE_LINE = next(
    number
    for number, line in enumerate(MODULE_CELL.split("\n")[1:], start=1)
    if "raise ValueError" in line
)


def _assert_equal(found, expected) -> None:
    assert found == expected, f"{found!r} != {expected!r}"


class Checks:
    """Assertions that raise at once, or (``DASF_UI_SOFT=1``) are collected and reported."""

    def __init__(self, soft: bool) -> None:
        self.soft = soft
        self.failed: list[str] = []

    def __call__(self, what: str, check) -> None:
        try:
            check()
        except AssertionError as exc:
            if not self.soft:
                raise
            self.failed.append(f"{what}: {str(exc).splitlines()[0] if str(exc) else exc!r}")


def _shot(target, name: str) -> None:
    target.screenshot(path=str(SHOTS / f"{TAG}-{name}.png"))


def _run_in_last_cell(page, source: str) -> None:
    """Put ``source`` in the last cell, run it and add an empty cell below."""
    page.evaluate(
        """(source) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = notebook.widgets.length - 1;
            notebook.activeCell.model.sharedModel.setSource(source);
            return window.jupyterapp.commands.execute('notebook:run-cell-and-insert-below');
        }""",
        source,
    )


def _wait_idle_and_run(page, count: int) -> None:
    """Wait until the first ``count`` code cells ran and the kernel is idle."""
    page.wait_for_function(
        """(count) => {
            const nb = window.jupyterapp.shell.currentWidget;
            const cells = nb.content.widgets.filter(c => c.model.type === 'code');
            const ran = cells.slice(0, count).every(c => c.model.executionCount !== null);
            return ran && nb.sessionContext.session.kernel.status === 'idle';
        }""",
        arg=count,
        timeout=RUN_TIMEOUT,
    )


def _wait_kernel_idle(page) -> None:
    """Wait until the current notebook's kernel is connected and idle (cells run, not drop)."""
    page.wait_for_function(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget;
            const kernel = nb && nb.sessionContext && nb.sessionContext.session
                && nb.sessionContext.session.kernel;
            return !!kernel && kernel.status === 'idle'
                && kernel.connectionStatus === 'connected';
        }""",
        timeout=RUN_TIMEOUT,
    )


def _field(form, page, *labels: str):
    """The ``<input>``/``<select>`` of the form row labelled with one of ``labels``."""
    pattern = re.compile("|".join(rf"^\s*{re.escape(t)}( \*)?\s*$" for t in labels))
    label = page.locator("b, label.widget-label", has_text=pattern)
    row = form.locator(".dasf-field, .widget-inline-hbox", has=label).first
    return row.locator("input, select").first


def _cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def test_first_ten_minutes_basic_notebook_and_a_fresh_one(lab: JupyterServer, tmp_path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"{TAG}-*.png"):
        old.unlink()
    shutil.copy(ROOT / "notebooks" / "basic.ipynb", lab.root / "basic.ipynb")
    # no "get notified about news?" toast over the screenshots
    news = lab.root / ".lab-settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    check = Checks(SOFT)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(lab_ui.CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 2200})
        page.set_default_timeout(lab_ui.UI_TIMEOUT)
        try:
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")

            # -- basic.ipynb, run all --------------------------------------------------
            page.evaluate(
                "() => window.jupyterapp.commands.execute('docmanager:open', "
                "{path: 'basic.ipynb', factory: 'Notebook', kernel: {name: 'python3'}})"
            )
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            _wait_kernel_idle(page)
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            code_cells = page.evaluate(
                "() => window.jupyterapp.shell.currentWidget.content.widgets"
                ".filter(c => c.model.type === 'code').length"
            )
            _wait_idle_and_run(page, code_cells)
            errors = page.locator(".jp-OutputArea-output[data-mime-type*='stderr']")
            check("basic.ipynb runs without error output", lambda: expect(errors).to_have_count(0))
            form_cell = page.locator(".jp-Notebook .jp-Cell", has=page.locator(".widget-button"))
            form_cell.first.scroll_into_view_if_needed()
            _shot(form_cell.first, "basic-form")
            check(
                "the basic form shows its label column",
                lambda: expect(form_cell.first.locator(".dasf-field-label").first).to_be_visible(),
            )
            # closed with its kernel (no dialog), so that two kernels do not share the 2 cores
            page.evaluate(
                """async () => {
                    const nb = window.jupyterapp.shell.currentWidget;
                    await nb.sessionContext.shutdown();
                    await nb.context.save();
                    nb.dispose();
                    return true;
                }"""
            )

            # -- a fresh notebook ----------------------------------------------------------
            page.evaluate(
                "() => window.jupyterapp.commands.execute("
                "'notebook:create-new', {kernelName: 'python3'}).then(() => true)"
            )
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            _wait_kernel_idle(page)
            _run_in_last_cell(page, "%load_ext dasf_jupyter\n%dasf connect")
            expect(_cell(page, 0)).to_contain_text("connected to ws://", timeout=RUN_TIMEOUT)
            _run_in_last_cell(page, MODULE_CELL)
            expect(_cell(page, 1)).to_contain_text(f"serving '{TOPIC}'", timeout=RUN_TIMEOUT)
            _run_in_last_cell(page, f"%dasf form {TOPIC}.forecast")
            form = _cell(page, 2).locator(".jp-OutputArea-output").first
            run = form.locator(".widget-button", has_text="Run")
            run.wait_for()
            _shot(_cell(page, 2), "form-empty")

            wind = _field(form, page, "wind (km/h)", "Wind Kmh")
            check("a required number starts empty", lambda: expect(wind).to_have_value(""))
            check(
                "labels keep the name and show the units",
                lambda: expect(form).to_contain_text("wind (km/h)"),
            )
            check("type and default are shown", lambda: expect(form).to_contain_text("int = 3"))
            not_set = form.locator(".dasf-not-set")
            check("Optional shows 'not set'", lambda: expect(not_set).to_contain_text("not set"))

            run.click()  # with the required number empty
            message = form.locator(".dasf-form-message")
            check(
                "an empty required number blocks the run",
                lambda: expect(message).to_contain_text("wind_kmh", timeout=RUN_TIMEOUT),
            )
            _shot(_cell(page, 2), "form-required")

            wind.fill("20")
            wind.press("Tab")
            _field(form, page, "site", "Site").select_option("north")
            start = _field(form, page, "start", "Start")
            start.fill("2024-05-01T06:00")
            start.press("Tab")
            run.click()
            check(
                "the run succeeds",
                lambda: expect(form).to_contain_text(
                    "result stored as forecast_result", timeout=RUN_TIMEOUT
                ),
            )
            plot = form.locator(".widget-output img")
            check("a quick plot is shown", lambda: expect(plot).to_be_visible())
            _cell(page, 2).scroll_into_view_if_needed()
            _shot(_cell(page, 2), "form-result")

            # -- a remote error, from a magic ---------------------------------------------
            _run_in_last_cell(page, f"%dasf call {TOPIC}.gust_factor wind_kmh=0 gust_kmh=30")
            error_cell = _cell(page, 3)
            expect(error_cell).to_contain_text("wind_kmh must be positive", timeout=RUN_TIMEOUT)
            boxes = error_cell.locator(".jp-OutputArea-output[data-mime-type*='stderr']")
            check("no client traceback box", lambda: expect(boxes).to_have_count(0))
            shown = error_cell.locator(".jp-OutputArea").inner_text()
            check(
                "the message appears once",
                lambda: _assert_equal(shown.count("must be positive, got 0"), 1),
            )
            details = error_cell.locator("details summary")
            check("the remote traceback folds out", lambda: expect(details).to_have_count(1))
            if details.count():
                details.first.click()
                check(
                    "the traceback shows the cell's line",
                    lambda: expect(error_cell).to_contain_text(
                        f'File "<dasf module {TOPIC}>", line {RAISE_LINE}, in gust_factor'
                    ),
                )
            _shot(error_cell, "remote-error")

            # -- dark theme: descriptions and messages stay readable ----------------------
            page.evaluate(
                "() => window.jupyterapp.commands.execute("
                "'apputils:change-theme', {theme: 'JupyterLab Dark'})"
            )
            page.wait_for_function(
                "() => document.body.dataset.jpThemeLight === 'false'", timeout=RUN_TIMEOUT
            )
            _cell(page, 2).scroll_into_view_if_needed()
            _shot(_cell(page, 2), "form-dark")
        except Exception:
            page.screenshot(path=str(SHOTS / f"{TAG}-failure.png"))
            raise
        finally:
            browser.close()
    if check.failed:
        pytest.fail("what the user sees is wrong:\n" + "\n".join(check.failed))
