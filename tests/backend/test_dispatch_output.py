"""Output forwarding: stdout, stderr and logging of one thread go to its sink."""

from __future__ import annotations

import io
import logging
import sys
import threading

from dasf_jupyter.backend import output
from dasf_jupyter.backend.output import forward_output


def test_prints_and_log_records_of_the_calling_thread_are_forwarded():
    records: list[dict] = []
    with forward_output(records.append):
        print("hello")
        print("partial", end="")
        sys.stderr.write("oops\n")
        logging.getLogger("user.code").warning("careful %s", 42)
    assert {"level": "INFO", "message": "hello", "logger": "stdout"} in records
    assert {"level": "INFO", "message": "partial", "logger": "stdout"} in records
    assert {"level": "ERROR", "message": "oops", "logger": "stderr"} in records
    assert {"level": "WARNING", "message": "careful 42", "logger": "user.code"} in records


def test_other_threads_are_not_captured(capsys):
    records: list[dict] = []
    inside = threading.Event()
    leave = threading.Event()

    def capturing() -> None:
        with forward_output(records.append):
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=capturing)
    thread.start()
    assert inside.wait(10)
    print("from the main thread")
    leave.set()
    thread.join(10)
    assert records == []
    assert "from the main thread" in capsys.readouterr().out


def test_streams_are_restored_afterwards():
    # no earlier test may leave a call running that still holds the routing (tests/conftest.py
    # fails a test that leaves its threads behind)
    assert output._installation.users == 0, "output routing is still held by someone"
    before = (sys.stdout, sys.stderr)
    with forward_output(lambda record: None):
        assert sys.stdout is not before[0] and sys.stderr is not before[1]
    assert (sys.stdout, sys.stderr) == before


def test_a_flood_of_output_is_capped():
    records: list[dict] = []
    with forward_output(records.append, limit=10):
        for n in range(100):
            print(n)
    assert len(records) == 11
    assert "truncated" in records[-1]["message"]


def test_a_failing_sink_does_not_break_the_call():
    def broken(record: dict) -> None:
        raise RuntimeError("sink down")

    with forward_output(broken):
        print("still fine")


def test_prints_are_forwarded_after_someone_replaced_stdout_during_another_call():
    first: list[dict] = []
    second: list[dict] = []
    inside = threading.Event()
    leave = threading.Event()

    def long_call() -> None:
        with forward_output(first.append):
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=long_call)
    thread.start()
    assert inside.wait(10)
    original = sys.stdout
    sys.stdout = replacement = io.StringIO()  # what pytest's capture or Jupyter do
    try:
        with forward_output(second.append):
            print("from the second call")
    finally:
        leave.set()
        thread.join(10)
        sys.stdout = original
    assert {"level": "INFO", "message": "from the second call", "logger": "stdout"} in second
    assert replacement.getvalue() == ""
