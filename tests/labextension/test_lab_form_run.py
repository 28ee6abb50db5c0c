"""Real JupyterLab + Debian's headless Chromium: fill a DASF form, press Run, see the result."""

from __future__ import annotations

import re

import pytest

from tests.labextension import test_lab_ui as lab_ui
from tests.labextension.jupyterserver import JupyterServer

pytestmark = [pytest.mark.chromium, pytest.mark.slow]

ARTIFACTS = lab_ui.ARTIFACTS
TOPIC = lab_ui.TOPIC
RESULT_TIMEOUT = 30_000  # ms; the call itself is instant, the bound only guards a hang

# the ``lab`` fixture (Lab + broker + the climate module served) is shared with test_lab_ui
lab = lab_ui.lab


def _run_in_last_cell(page, source: str) -> None:
    """Put ``source`` in the notebook's last cell, run it and add an empty cell below.

    The last cell is activated first: clicking into a form's widgets activates the form cell.
    """
    page.evaluate(
        """(source) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = notebook.widgets.length - 1;
            notebook.activeCell.model.sharedModel.setSource(source);
            return window.jupyterapp.commands.execute('notebook:run-cell-and-insert-below');
        }""",
        source,
    )


def _number_input(form, page, label: str):
    """The ``<input>`` of the form row labelled ``label`` (``*`` if required)."""
    field_label = page.locator(
        ".dasf-field-label b", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )
    return form.locator(".dasf-field", has=field_label).locator("input")


def test_form_filled_in_the_browser_runs_and_stores_the_result(lab: JupyterServer) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    expect = sync_api.expect
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in ("form-filled.png", "form-result.png", "form-run-failure.png"):
        (ARTIFACTS / name).unlink(missing_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(lab_ui.CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(lab_ui.UI_TIMEOUT)
        try:
            page.goto(f"{lab.url}/lab?token={lab.token}")
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started")
            page.evaluate(
                "() => window.jupyterapp.commands.execute("
                "'notebook:create-new', {kernelName: 'python3'})"
            )
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            # the kernel inherits DASF_BROKER_URL from the server extension
            _run_in_last_cell(page, "%load_ext dasf_jupyter\n%dasf connect")
            _run_in_last_cell(page, f"%dasf form {TOPIC}.add")

            # the cell's own (outer) output holds the form; the form's Output widget nests more
            cell = page.locator(".jp-Notebook .jp-Cell").nth(1)
            form = cell.locator(".jp-OutputArea-output").first
            run = form.locator(".widget-button", has_text="Run")
            run.wait_for()
            a_input, b_input = _number_input(form, page, "a"), _number_input(form, page, "b")
            # the text box syncs on "change" (continuous_update is off): Tab away to commit
            a_input.fill("2")
            a_input.press("Tab")
            b_input.fill("40")
            b_input.press("Tab")
            expect(a_input).to_have_value("2")
            expect(b_input).to_have_value("40")
            page.screenshot(path=str(ARTIFACTS / "form-filled.png"))

            run.click()
            expect(form).to_contain_text("result stored as add_result", timeout=RESULT_TIMEOUT)
            result = form.locator(".widget-output .jp-OutputArea-output").first
            expect(result).to_have_text(re.compile(r"^\s*42\s*$"), timeout=RESULT_TIMEOUT)
            expect(run).to_be_enabled()
            page.screenshot(path=str(ARTIFACTS / "form-result.png"))

            # the form stored the result in the kernel's namespace under the shown name
            _run_in_last_cell(page, 'print(f"stored={add_result!r}")')
            printed = page.locator(".jp-Notebook .jp-Cell").nth(2).locator(".jp-OutputArea")
            expect(printed).to_contain_text("stored=42", timeout=RESULT_TIMEOUT)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "form-run-failure.png"))
            raise
        finally:
            browser.close()
