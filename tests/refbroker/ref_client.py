"""Call any DASF topic with demessaging's own Python client, isolated in a subprocess.

demessaging keeps global config, daemon threads and an unbounded wait per call; a subprocess
keeps all of that out of pytest and lets us enforce a timeout by killing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.refbroker.process import REPO_ROOT

DEFAULT_TIMEOUT = 60.0


class RefCallError(Exception):
    """The remote call failed; ``str(exc)`` is the error text demessaging's client reported."""


class RefCallTimeout(TimeoutError):
    """demessaging's client produced no result within the timeout (its process was killed)."""


def run_ref_request(
    broker_url: str,
    topic: str,
    request: dict[str, Any],
    *,
    members_from: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    """Send one decoded request payload with demessaging's client; return the decoded result.

    Without ``members_from`` the payload goes out as given via demessaging's
    ``MessageProducer``. With it (a module name or ``.py`` path describing the remote API),
    the call goes through ``BackendModule.create_model(...).model_validate(request).compute()``
    like a generated client stub, so the request is validated and defaults are filled in.
    """
    with tempfile.TemporaryDirectory(prefix="dasf-refcall-") as tmp:
        spec_path, out_path = Path(tmp, "spec.json"), Path(tmp, "out.json")
        spec = {"broker_url": broker_url, "topic": topic, "request": request}
        spec["members_from"] = members_from
        spec_path.write_text(json.dumps(spec))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        cmd = [sys.executable, "-m", "tests.refbroker.ref_client_worker", str(spec_path)]
        try:
            proc = subprocess.run(
                [*cmd, str(out_path)], cwd=REPO_ROOT, env=env, capture_output=True, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            tail = (exc.stderr or b"")[-2000:].decode(errors="replace")
            raise RefCallTimeout(
                f"demessaging client got no answer from {topic!r} within {timeout}s\n{tail}"
            ) from None
        if not out_path.exists():
            tail = proc.stderr[-4000:].decode(errors="replace")
            raise RuntimeError(f"demessaging client crashed (exit {proc.returncode}):\n{tail}")
        outcome = json.loads(out_path.read_text())
    if outcome["status"] != "success":
        raise RefCallError(outcome["error"])
    return outcome["result"]


def ref_call(
    broker_url: str,
    topic: str,
    func: str,
    *,
    members_from: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> Any:
    """Call function ``func(**kwargs)`` on ``topic``; return the JSON-decoded result."""
    request = {"func_name": func, **kwargs}
    return run_ref_request(broker_url, topic, request, members_from=members_from, timeout=timeout)


def ref_call_class(
    broker_url: str,
    topic: str,
    class_name: str,
    ctor_kwargs: dict[str, Any],
    method: str,
    *,
    members_from: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **kwargs: Any,
) -> Any:
    """Call ``class_name(**ctor_kwargs).method(**kwargs)`` on ``topic``; return the result."""
    request = {
        "class_name": class_name,
        **ctor_kwargs,
        "function": {"func_name": method, **kwargs},
    }
    return run_ref_request(broker_url, topic, request, members_from=members_from, timeout=timeout)
