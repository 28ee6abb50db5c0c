"""Write docs/configuration.md from the settings tables: ``python -m dasf_jupyter.settings_doc``.

The tables (broker/config.py, backend/config.py, peer_config.py, jupyter/config.py) are the
single source; a test regenerates the page and compares (``--check`` does the same here).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .backend.config import ModuleSettings
from .broker.config import BrokerSettings
from .jupyter.config import JupyterSettings
from .peer_config import ClientSettings
from .settings_table import markdown

COMMAND = "python -m dasf_jupyter.settings_doc"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

HEADER = f"""\
# Configuration

Every environment variable dasf-jupyter reads, by component. Generated from the settings
tables in the code by `{COMMAND}`; do not edit by hand.

A command-line flag wins over its variable; an unset or empty variable means its default.
A value the setting cannot take (`DASF_PING_INTERVAL=soon`) stops the program with a message
that names the variable. Booleans are `1/true/yes/on` or `0/false/no/off`.
"""

SECTIONS = (
    (
        BrokerSettings,
        "Broker (`dasf-broker`)",
        "Read by `dasf-broker` (flags: `dasf-broker --help`) and by the Django settings module "
        "`dasf_jupyter.broker.settings` when another ASGI server runs "
        "`dasf_jupyter.broker.asgi:application`. Sizes are bytes.",
    ),
    (
        ModuleSettings,
        "Module (`dasf serve`, `BackendModule.serve`)",
        "Read when a backend module is made and served (flags: `dasf serve --help`). The bounds "
        "of incomplete fragmented requests are what an unauthenticated sender can pin "
        '(docs/delivery-semantics.md, "Memory bounds").',
    ),
    (
        ClientSettings,
        "Client (`connect`, `dasf call`, `dasf modules`)",
        "Read when a `Connection` is opened, unless it is given `settings=ClientSettings(...)`; "
        "`connect(max_payload=)` overrides the largest reply.",
    ),
    (
        JupyterSettings,
        "Jupyter (server extension, `%dasf`)",
        "The server extension's traitlets (`c.DasfServerExtension.*` in "
        "`jupyter_server_config.py`) default to these; it announces its broker to the kernels "
        "it starts through their environment, where `%dasf connect` reads it.",
    ),
)


def render() -> str:
    """The text of docs/configuration.md."""
    parts = [HEADER]
    parts += [markdown(cls, heading, intro) for cls, heading, intro in SECTIONS]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` tell whether it is up to date (exit 1 if not)."""
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH, help="%(default)s")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
