"""Every shell command in README.md is exercised by a test; the cheap ones run here."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: README command (comment stripped) → the test that runs it (path::function)
COVERED_BY = {
    "bash scripts/lab.sh": "tests/notebooks/test_scripts.py::"
    "test_lab_script_serves_basic_notebook_with_an_embedded_broker",
    "bash scripts/test.sh": "tests/test_readme_commands.py::test_test_script_is_what_ci_runs",
    "bash scripts/demo.sh": "tests/notebooks/test_scripts.py::"
    "test_demo_entry_runs_the_main_job_end_to_end",
    "dasf serve my_module.py --topic climate --url ws://127.0.0.1:8765/ws": "tests/test_cli.py::"
    "test_serve_serves_a_file_until_stopped",
    "dasf schema my_module.py": "tests/test_readme_commands.py::test_dasf_schema_of_a_file",
    "dasf modules ws://127.0.0.1:8765/ws": "tests/test_cli.py::test_modules_lists_served_topics",
    'dasf call ws://127.0.0.1:8765/ws climate add --json \'{"a": 2, "b": 3}\'': (
        "tests/test_cli.py::test_call_prints_the_json_result"
    ),
    **dict.fromkeys(
        [
            "dasf keygen --comment alice",
            "dasf keygen --module climate",
            "dasf serve my_module.py --topic climate --url ws://127.0.0.1:8765/ws "
            "--security encrypted-required --allow-list allowed_users",
            "dasf call ws://127.0.0.1:8765/ws climate add --json '{\"a\": 2}' "
            "--identity alice.pem --trust SHA256:FP",
        ],
        "tests/security/test_wired_cli.py::"
        "test_keygen_then_serve_encrypted_required_with_an_allow_list",
    ),
    **dict.fromkeys(
        [
            "dasf-broker manage dasf_user create alice",
            "dasf-broker manage dasf_user create bob",
            "dasf-broker manage dasf_token create alice --name backend",
            "dasf-broker manage dasf_token create bob --name laptop",
            "dasf-broker manage dasf_topic create climate --owner alice",
            "dasf-broker manage dasf_grant bob climate --produce",
            "dasf-broker manage dasf_revoke bob climate --produce",
            "dasf-broker manage dasf_token revoke 2",
            "dasf-broker manage dasf_topic create climate --owner alice --force",
        ],
        "tests/broker/test_readme_management.py::test_readme_management_commands_do_what_they_say",
    ),
    "dasf-broker manage dasf_user deactivate bob": (
        "tests/security/test_revocation.py::test_deactivated_user_closes_sockets"
    ),
}


def readme_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks, without trailing comments."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_every_readme_command_is_mapped_to_a_test():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert "bash scripts/lab.sh" in commands and "bash scripts/test.sh" in commands
    unmapped = [c for c in commands if c not in COVERED_BY]
    assert not unmapped, f"README commands without a test (add them to COVERED_BY): {unmapped}"


def test_the_mapped_tests_exist():
    for node in COVERED_BY.values():
        path, _, name = node.partition("::")
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, f"{node} does not exist"


def test_quickstart_keeps_its_two_commands_first():
    text = README.read_text(encoding="utf-8")
    quickstart = text[text.index("## Quickstart") :]
    assert readme_commands(quickstart)[:2] == ["bash scripts/lab.sh", "bash scripts/test.sh"]


def test_test_script_is_what_ci_runs():
    # scripts/test.sh is run by CI itself (.ci/run): its success is the whole suite's
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    script = (ROOT / "scripts" / "test.sh").read_text()
    assert "scripts/setup.sh test" in script and "pytest" in script


def test_demo_script_runs_the_demo_entry_point():
    script = (ROOT / "scripts" / "demo.sh").read_text()
    assert "python -m dasf_jupyter.demo" in script


def test_dasf_schema_of_a_file(tmp_path):
    module = tmp_path / "my_module.py"
    module.write_text('def add(a: int, b: int = 1) -> int:\n    """Add."""\n    return a + b\n')
    dasf = Path(sys.executable).with_name("dasf")
    result = subprocess.run(
        [str(dasf), "schema", "my_module.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert [f["name"] for f in info["functions"]] == ["add"]
