"""Review finding: the Python client and backends must not log their token either.

The websockets library logs every handshake header at DEBUG level ("> Authorization: Token
<key>"); a user who turns on DEBUG logging in a notebook, or runs ``dasf serve`` with a debug
log, would print the key. A real secure broker, a real client and a real backend in
subprocesses at DEBUG level; their whole output is searched for the key.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from dasf_jupyter.broker.process import BrokerProcess

from .test_token_logs import forms_of, manage

CLIENT = textwrap.dedent(
    """
    import logging, sys
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    from dasf_jupyter.client import connect
    from dasf_jupyter.errors import DasfError
    url, key = sys.argv[1], sys.argv[2]
    with connect(url, token=key) as conn:
        try:
            conn.api_info("mod", timeout=2)
        except (DasfError, TimeoutError) as exc:
            print("no module:", type(exc).__name__, file=sys.stderr)
    print("client done", file=sys.stderr)
    """
)


def test_client_debug_log_has_no_token(tmp_path):
    broker = BrokerProcess(data_dir=tmp_path / "broker", secure=True)
    with broker:
        manage(broker, "dasf_user", "create", "alice")
        key = manage(broker, "dasf_token", "create", "alice")
        manage(broker, "dasf_topic", "create", "mod", "--owner", "alice")
        result = subprocess.run(
            [sys.executable, "-c", CLIENT, broker.url, key],
            capture_output=True,
            text=True,
            timeout=60,
        )
    output = result.stdout + result.stderr
    assert "client done" in output, output
    # the handshake headers were logged (so the check below looks at real header lines)
    assert "Authorization" in output, output
    leaked = [form for form in forms_of(key) if form in output]
    assert not leaked, f"token pieces in the client's DEBUG log: {leaked[:3]}"
