"""README "Users, tokens and topics": the worked examples run and do what the text says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dasf_jupyter.broker.process import BrokerProcess
from tests.test_readme_commands import README, readme_commands

SECTION = "### Users, tokens and topics"


def management_examples() -> list[str]:
    """The README's ``dasf-broker manage ...`` examples, in order."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ")]
    return [c for c in readme_commands(section) if c.startswith("dasf-broker manage ")]


def status(url: str, key: str | None = None) -> int:
    """101 if a websocket to ``url`` opens, else the refusal's HTTP status."""
    headers = {"Authorization": f"Token {key}"} if key else None
    try:
        with connect(url, additional_headers=headers, open_timeout=10, close_timeout=2):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_readme_management_commands_do_what_they_say(tmp_path: Path):
    examples = management_examples()
    assert [shlex.split(c)[2] for c in examples] == [
        "dasf_user",
        "dasf_user",
        "dasf_token",
        "dasf_token",
        "dasf_topic",
        "dasf_grant",
        "dasf_revoke",
        "dasf_token",
        "dasf_topic",
        "dasf_user",
    ]
    keys: dict[str, str] = {}
    with BrokerProcess(secure=True, data_dir=tmp_path) as broker:

        def run(command: str) -> str:
            result = broker.manage(*shlex.split(command)[2:])
            assert result.returncode == 0, f"{command}: {result.stderr}"
            return result.stdout.strip()

        for command in examples[:6]:  # users, tokens, topic, grant
            out = run(command)
            if " dasf_token create " in command:
                keys[shlex.split(command)[4]] = out
        base = broker.url
        assert status(f"{base}/climate/backend", keys["alice"]) == 101  # owner consumes
        assert status(f"{base}/climate", keys["bob"]) == 101  # granted produce: may call
        assert status(f"{base}/climate/backend", keys["bob"]) == 403  # but not consume
        assert status(f"{base}/climate") == 403  # no token: "requires a token"
        run(examples[6])  # dasf_revoke bob climate --produce
        assert status(f"{base}/climate", keys["bob"]) == 403
        assert "revoked token" in run(examples[7])  # token id 2: bob's
        assert status(f"{base}/climate", keys["bob"]) == 401
        assert re.match(r"took over topic 'climate'", run(examples[8]))
        assert status(f"{base}/climate/backend", keys["alice"]) == 101
        assert run(examples[9]) == "deactivated user 'bob'"  # dasf_user deactivate bob
        assert status(f"{base}/climate/backend", keys["alice"]) == 101
