"""One exception tree: every exception of dasf_jupyter is a ``DasfError``, and
``except DasfError`` catches every way a call can fail (real broker, real or lying module).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import dasf_jupyter
from dasf_jupyter import errors
from dasf_jupyter.backend import BackendModule
from dasf_jupyter.broker.process import BrokerProcess
from dasf_jupyter.client import connect
from dasf_jupyter.errors import DasfError
from dasf_jupyter.protocol import Envelope, MessageType, Prop, Status, encode_json_payload
from dasf_jupyter.security.errors import EncryptionUnavailable
from dasf_jupyter.transport import BrokerUrl, ConsumerSocket, ProducerPool
from tests.client.conftest import SAMPLE_MODULE, fresh_topic, serve_sample
from tests.conftest import free_port

#: modules whose import has effects a test process must not have
NOT_IMPORTED = {
    "dasf_jupyter.broker.__main__": "runs the broker CLI",
    "dasf_jupyter.__main__": "runs the dasf CLI",
}


def _package_modules() -> Iterator[str]:
    prefix = dasf_jupyter.__name__ + "."
    for info in pkgutil.walk_packages(dasf_jupyter.__path__, prefix):
        if info.name not in NOT_IMPORTED and ".migrations." not in info.name:
            yield info.name


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for name in _package_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found.append(value)
    return found


def test_every_exception_class_of_the_package_is_a_dasf_error():
    classes = _exception_classes()
    assert len(classes) > 40, "the walk found the package's exceptions"
    outside = [f"{c.__module__}.{c.__qualname__}" for c in classes if not issubclass(c, DasfError)]
    assert outside == []


def test_every_exception_class_is_drawn_in_a_tree():
    from dasf_jupyter.security import errors as security_errors

    trees = (errors.__doc__ or "") + (security_errors.__doc__ or "")
    missing = [
        c.__qualname__
        for c in _exception_classes()
        if not re.search(rf"(─ |^    ){c.__qualname__}\b", trees, re.MULTILINE)
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("cls", "second"),
    [
        ("CodecError", ValueError),
        ("InvalidName", ValueError),
        ("ArgumentError", TypeError),
        ("MemberSchemaError", TypeError),
        ("FormSchemaError", ValueError),
        ("CallTimeout", TimeoutError),
    ],
)
def test_old_except_clauses_still_catch(cls, second):
    assert issubclass(getattr(errors, cls), second)


def test_the_old_names_are_the_tree_s_classes():
    from dasf_jupyter.backend.schema import (
        RequestValidationError,
        ResultValidationError,
        SchemaError,
    )
    from dasf_jupyter.codecs import CodecError
    from dasf_jupyter.jupyter.forms import SchemaError as FormsSchemaError

    assert SchemaError is errors.MemberSchemaError
    assert FormsSchemaError is errors.FormSchemaError
    assert CodecError is errors.CodecError
    assert issubclass(RequestValidationError, DasfError)
    assert issubclass(ResultValidationError, DasfError)


class LyingModule:
    """A module on a real broker that announces the sample module's API but answers every
    request with a value its return schema cannot decode (a broken ndarray)."""

    BAD_ARRAY = {"dtype": "int8", "shape": [2], "data": "AAAA"}  # 3 bytes for 2

    def __init__(self, broker_url: str, topic: str) -> None:
        self.topic = topic
        api_info = BackendModule.from_path(SAMPLE_MODULE, topic).api_info()
        self._api_text = json.dumps(api_info)
        url = BrokerUrl.parse(broker_url)
        self._consumer = ConsumerSocket(url.consumer(topic, "backend-module"))
        self._producers = ProducerPool(url.producer)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        for request in self._consumer:
            kind, topic = request.message_type, request.response_topic
            if topic is None or kind not in (MessageType.API_INFO, MessageType.REQUEST):
                continue
            props: dict[str, Any] = {
                Prop.MESSAGE_TYPE: MessageType.RESPONSE.value,
                Prop.REQUEST_CONTEXT: request.properties.get(Prop.REQUEST_CONTEXT),
                Prop.SOURCE_TOPIC: self.topic,
            }
            if kind == MessageType.API_INFO:
                reply = Envelope("", {**props, Prop.API_INFO: self._api_text})
            else:
                props[Prop.STATUS] = Status.SUCCESS.value
                reply = Envelope(encode_json_payload(self.BAD_ARRAY), props)
            self._producers.get(topic).publish(reply)

    def close(self) -> None:
        self._consumer.close()
        self._producers.close()
        self._thread.join(5)


@pytest.fixture(scope="module")
def sample(broker_url: str) -> Iterator[str]:
    topic = fresh_topic("tree")
    with serve_sample(broker_url, topic, max_workers=4):
        yield topic


@pytest.fixture(scope="module")
def liar(broker_url: str) -> Iterator[str]:
    module = LyingModule(broker_url, fresh_topic("liar"))
    yield module.topic
    module.close()


@pytest.fixture(scope="module")
def secure_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BrokerProcess(secure=True, data_dir=tmp_path_factory.mktemp("tree")) as broker:
        assert broker.manage("dasf_user", "create", "alice").returncode == 0
        assert broker.manage("dasf_topic", "create", "mod", "--owner", "alice").returncode == 0
        yield broker.url


Failure = Callable[[str, str, str, str], Any]

#: (how a call fails, what the caller does, the class it raises)
FAILURES: list[tuple[str, Failure, type[BaseException]]] = [
    (
        "remote error",
        lambda url, sample, liar, secure: _module(url, sample).fail("boom"),
        errors.RemoteError,
    ),
    (
        "remote validation of an argument",
        lambda url, sample, liar, secure: _module(url, sample).add("not a number"),
        errors.RemoteError,
    ),
    (
        "timeout",
        lambda url, sample, liar, secure: _module(url, sample).sleep.options(timeout=0.5)(5),
        errors.CallTimeout,
    ),
    (
        "arguments that do not fit the signature",
        lambda url, sample, liar, secure: _module(url, sample).add(1, 2, 3),
        errors.ArgumentError,
    ),
    (
        "an unknown keyword argument",
        lambda url, sample, liar, secure: _module(url, sample).add(1, c=2),
        errors.ArgumentError,
    ),
    (
        "a result the codec cannot decode",
        lambda url, sample, liar, secure: _module(url, liar).same_array([1, 2]),
        errors.CodecError,
    ),
    (
        "an invalid topic name",
        lambda url, sample, liar, secure: _module(url, "a..b"),
        errors.InvalidName,
    ),
    (
        "nobody serves the topic",
        lambda url, sample, liar, secure: _call(url, fresh_topic("none")),
        errors.ModuleNotServed,
    ),
    (
        "the broker refuses the publish",
        lambda url, sample, liar, secure: _call(secure, "mod"),
        errors.BrokerRefused,
    ),
    (
        "the security layer refuses",
        lambda url, sample, liar, secure: _module(url, sample, encrypt="required").add(1),
        EncryptionUnavailable,
    ),
    (
        "no broker at the URL",
        lambda url, sample, liar, secure: _call(f"ws://127.0.0.1:{free_port()}/ws", "t"),
        errors.BrokerError,
    ),
]

_OPEN: list[Any] = []


def _module(url: str, topic: str, **options: Any) -> Any:
    conn = connect(url, timeout=30, **options)
    _OPEN.append(conn)
    return conn.module(topic, timeout=20)


def _call(url: str, topic: str) -> Any:
    with connect(url, timeout=20) as conn:
        return conn.call(topic, {"func_name": "add", "a": 1}, timeout=10)


@pytest.mark.parametrize(("how", "fail", "expected"), FAILURES, ids=[f[0] for f in FAILURES])
def test_except_dasf_error_catches_every_failure_of_a_call(
    broker_url, sample, liar, secure_url, how, fail, expected
):
    caught: DasfError | None = None
    try:
        fail(broker_url, sample, liar, secure_url)
    except DasfError as exc:
        caught = exc
    finally:
        while _OPEN:
            _OPEN.pop().close()
    assert isinstance(caught, expected), f"{how}: {caught!r}"
