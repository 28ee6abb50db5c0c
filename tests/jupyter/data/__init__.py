"""api_info fixtures generated from real demessaging modules (see ``make_fixtures.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent


def load_api_info(marked: bool = True) -> dict[str, Any]:
    """The forms fixture; ``marked`` adds our backend's ``x-dasf-codec`` markers."""
    name = "api_info_forms_marked.json" if marked else "api_info_forms.json"
    return json.loads((DATA / name).read_text())
