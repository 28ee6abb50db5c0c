"""Subprocess side of ``ref_client``: one call with demessaging's own client, result to a file.

Usage: ``python -m tests.refbroker.ref_client_worker SPEC.json OUT.json``. SPEC holds
``broker_url``, ``topic``, ``request`` (the decoded request payload) and optionally
``members_from`` (an importable module name or a ``.py`` path whose members describe the
remote API). OUT receives ``{"status": "success", "result": ...}`` or
``{"status": "error", "error": "..."}``.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from demessaging.config import ModuleConfig, WebsocketURLConfig


def _load_module(spec: str) -> Any:
    """Import a module by dotted name or from a ``.py`` file path."""
    if spec.endswith(".py"):
        path = Path(spec).resolve()
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert module_spec is not None and module_spec.loader is not None, spec
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        module_spec.loader.exec_module(module)
        return module
    return importlib.import_module(spec)


def call_with_model(config: WebsocketURLConfig, request: dict, members_from: str) -> Any:
    """The generated-client path: validate with the module model, ``compute()``, dump JSON."""
    from demessaging import BackendModule

    module = _load_module(members_from)
    model_cls = BackendModule.create_model(
        module.__name__, config=ModuleConfig(messaging_config=config)
    )
    returned = model_cls.model_validate(request).compute()
    return json.loads(returned.model_dump_json())


def call_with_producer(config: WebsocketURLConfig, request: dict) -> Any:
    """The schema-less path: demessaging's ``MessageProducer.send_request`` with a raw payload."""
    from demessaging.backend.utils import run_async

    payload = base64.b64encode(json.dumps(request).encode("utf-8")).decode("ascii")
    response = run_async(config.producer.send_request, {"properties": {}, "payload": payload})
    if response["status"] != "success":
        raise RuntimeError(response.get("error") or str(response.get("msg")))
    return json.loads(response["msg"])


def main(spec_path: str, out_path: str) -> int:
    """Run the call described in ``spec_path`` and write the outcome to ``out_path``."""
    spec = json.loads(Path(spec_path).read_text())
    config = WebsocketURLConfig(topic=spec["topic"], websocket_url=spec["broker_url"])
    try:
        if spec.get("members_from"):
            result = call_with_model(config, spec["request"], spec["members_from"])
        else:
            result = call_with_producer(config, spec["request"])
        outcome = {"status": "success", "result": result}
    except Exception as exc:  # reported to the parent, which raises it there
        outcome = {"status": "error", "error": str(exc), "type": type(exc).__name__}
    Path(out_path).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
