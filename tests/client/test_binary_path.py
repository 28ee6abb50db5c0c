"""Binary frames and binary bodies end to end (docs/binary-frames.md), over real brokers.

Our client calls our backend through our broker (binary frames, binary bodies), through
dasf-broker-django (text frames, binary bodies inside base64) and with sealing on (neither).
Spies are raw websocket consumers on the request and response topics; they see what a
curious operator, or a reference peer, would see on the wire.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
import xarray as xr
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from dasf_jupyter.backend import BackendModule
from dasf_jupyter.client import Connection, connect
from dasf_jupyter.codecs.xarray_codec import decode_dataarray
from dasf_jupyter.protocol import DEFAULT_FRAGMENT_SIZE, decode_text_payload
from dasf_jupyter.protocol.binary import (
    BINARY_FRAMES_HEADER,
    decode_binary_frame,
    encode_binary_frame,
)
from dasf_jupyter.protocol.body import BINARY_BODY, decode_body, encode_body, placeholder
from dasf_jupyter.transport import BrokerUrl
from tests.client.conftest import fresh_topic
from tests.waiting import eventually
from tests.wsclient import open_websocket

pytestmark = pytest.mark.timeout(120)

#: 620 x 620 float64: a ~3 MB netCDF, eight or more fragments at the default fragment size
GRID = 620
BIG_BYTES = 200_000
WAIT = 30.0

# --- the members the module serves ---------------------------------------------------------


def make_grid(n: int) -> xr.DataArray:
    """An n x n float64 grid whose value at (y, x) is y * n + x."""
    return expected_grid(n)


def same_dataarray(value: xr.DataArray) -> xr.DataArray:
    """Return the value."""
    return value


def total(value: xr.DataArray) -> float:
    """Sum of the values (a small result for a large argument)."""
    return float(value.sum())


def same_array(value: np.ndarray) -> np.ndarray:
    """Return the value."""
    return value


def make_bytes(n: int) -> bytes:
    """n bytes: 0, 1, ..., 255, 0, 1, ..."""
    return bytes(range(256)) * (n // 256) + bytes(range(n % 256))


def same_bytes(value: bytes) -> bytes:
    """Return the value."""
    return value


def same_text(value: str) -> str:
    """Return the value."""
    return value


def maybe(value: Optional[xr.DataArray] = None) -> Optional[xr.DataArray]:
    """Return the value (or None)."""
    return value


def pair(first: xr.DataArray, second: xr.DataArray) -> list[xr.DataArray]:
    """Both values, in a list."""
    return [first, second]


def add(a: int, b: int = 1) -> int:
    """Add two integers."""
    return a + b


MEMBERS = [
    make_grid,
    same_dataarray,
    total,
    same_array,
    make_bytes,
    same_bytes,
    same_text,
    maybe,
    pair,
    add,
]

# --- helpers -------------------------------------------------------------------------------


def expected_grid(n: int) -> xr.DataArray:
    values = np.arange(n * n, dtype="float64").reshape(n, n)
    return xr.DataArray(values, dims=("y", "x"), name="grid", attrs={"units": "m"})


def random_dataarray(seed: int, shape: tuple[int, int] = (GRID, GRID)) -> xr.DataArray:
    values = np.random.default_rng(seed).normal(size=shape)
    coords = {"y": np.arange(shape[0], dtype="float64")}
    return xr.DataArray(values, dims=("y", "x"), coords=coords, name=f"r{seed}", attrs={"s": 1})


def netcdf(da: xr.DataArray) -> bytes:
    return bytes(da.to_netcdf(format="NETCDF3_CLASSIC", engine="scipy"))


def is_probe(message: str | bytes) -> bool:
    """The broker's own ping/api_info probes (answered on ``status-ping``)."""
    if not isinstance(message, str):
        return False
    return json.loads(message).get("properties", {}).get("response_topic") == "status-ping"


def frame_header(message: str | bytes) -> dict[str, Any]:
    """The frame's JSON without its payload."""
    if isinstance(message, bytes):
        return decode_binary_frame(message)[0]
    frame = json.loads(message)
    frame.pop("payload", None)
    return frame


def frame_props(message: str | bytes) -> dict[str, Any]:
    return frame_header(message).get("properties", {})


def frame_payload(message: str | bytes) -> bytes:
    """The raw payload bytes of a binary or a (base64) text frame."""
    if isinstance(message, bytes):
        return bytes(decode_binary_frame(message)[1])
    return base64.b64decode(json.loads(message)["payload"])


def in_order(frames: list[str | bytes]) -> list[str | bytes]:
    return sorted(frames, key=lambda m: frame_props(m).get("fragment", 0))


def reassembled(frames: list[str | bytes]) -> bytes:
    """The whole payload of one (possibly fragmented) message, as a reference peer joins it."""
    ordered = in_order(frames)
    if all(isinstance(m, str) for m in ordered):
        text = "".join(json.loads(m)["payload"] for m in ordered)
        return base64.b64decode(text)
    return b"".join(frame_payload(m) for m in ordered)


class WireSpy:
    """A raw consumer with its own subscription that records every delivery (no probes)."""

    def __init__(self, broker_url: str, topic: str, *, binary: bool) -> None:
        url = BrokerUrl.parse(broker_url).consumer(topic, f"spy-{secrets.token_hex(4)}")
        headers = {BINARY_FRAMES_HEADER: "1"} if binary else None
        self.ws: ClientConnection = open_websocket(
            url, additional_headers=headers, max_size=None, open_timeout=10, compression=None
        )
        self.frames: list[str | bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                if not is_probe(message):
                    self.frames.append(message)
        except ConnectionClosed:
            pass

    def message(self, kind: str, timeout: float = WAIT) -> list[str | bytes]:
        """The frames of the first complete message of ``messageType`` ``kind``."""

        def complete() -> list[str | bytes] | None:
            frames = [m for m in list(self.frames) if frame_props(m).get("messageType") == kind]
            if frames:
                expected = frame_props(frames[0]).get("num_fragments", 1)
                if len(frames) >= expected:
                    return frames[:expected]
            return None

        return eventually(
            complete,
            timeout=timeout,
            message=lambda: f"a complete {kind!r} message: {self.frames!r:.300}",
        )

    def close(self) -> None:
        self.ws.close()
        self._reader.join(5)


@pytest.fixture
def spies() -> Iterator[Callable[..., WireSpy]]:
    """Factory ``spies(url, topic, binary=...)``; every spy closed at teardown."""
    opened: list[WireSpy] = []

    def spy(url: str, topic: str, *, binary: bool) -> WireSpy:
        opened.append(WireSpy(url, topic, binary=binary))
        return opened[-1]

    yield spy
    for one in opened:
        one.close()


def serve(url: str, topic: str, **options: Any) -> Any:
    return BackendModule(topic, MEMBERS, **options).serve_in_background(url)


@pytest.fixture(scope="module")
def served_binary(broker_url: str) -> Iterator[tuple[str, str]]:
    """``(url, topic)`` of :data:`MEMBERS` served by our backend on our broker."""
    topic = fresh_topic("bin")
    handle = serve(broker_url, topic, max_workers=2)
    try:
        yield broker_url, topic
    finally:
        handle.stop(timeout=5)


@pytest.fixture(scope="module")
def conn(served_binary: tuple[str, str]) -> Iterator[Connection]:
    with connect(served_binary[0], timeout=60) as connection:
        yield connection


@pytest.fixture(scope="module")
def remote(conn: Connection, served_binary: tuple[str, str]) -> Any:
    module = conn.module(served_binary[1], timeout=30)
    assert conn.speaks_binary(served_binary[1])
    return module


# --- 1. values through our broker ----------------------------------------------------------


def test_a_3mb_dataarray_result_arrives_identical(remote):
    xr.testing.assert_identical(remote.make_grid(GRID), expected_grid(GRID))


def test_a_3mb_dataarray_argument_and_result_arrive_identical(remote):
    da = random_dataarray(1)
    xr.testing.assert_identical(remote.same_dataarray(da), da)
    assert remote.total(da) == pytest.approx(float(da.sum()))


def test_numpy_arrays_round_trip(remote):
    for array in (np.arange(600_000, dtype="<i4").reshape(600, 1000), np.ones((3, 2), ">f8")):
        out = remote.same_array(array)
        assert isinstance(out, np.ndarray) and out.shape == array.shape
        assert out.dtype.newbyteorder("=") == array.dtype.newbyteorder("=")
        assert np.array_equal(out, array)


def test_bytes_result_and_argument_round_trip(remote):
    assert remote.make_bytes(BIG_BYTES) == make_bytes(BIG_BYTES)
    blob = secrets.token_bytes(BIG_BYTES)
    out = remote.same_bytes(blob)
    assert isinstance(out, bytes) and out == blob


def test_optional_dataarray_none_and_a_value(remote):
    assert remote.maybe(None) is None
    assert remote.maybe() is None
    da = random_dataarray(2, (100, 100))
    xr.testing.assert_identical(remote.maybe(da), da)


def test_a_list_of_two_dataarrays(remote):
    first, second = random_dataarray(3, (200, 50)), expected_grid(40)
    out = remote.pair(first, second)
    assert isinstance(out, list) and len(out) == 2
    xr.testing.assert_identical(out[0], first)
    xr.testing.assert_identical(out[1], second)


def test_small_results_stay_json(remote, conn, served_binary, spies):
    topic = served_binary[1]
    replies = spies(served_binary[0], conn._channels[topic].response_topic, binary=True)
    assert remote.add(2, 3) == 5
    (frame,) = replies.message("response")
    assert BINARY_BODY not in json.dumps(frame_header(frame))
    assert json.loads(frame_payload(frame)) == 5
    tiny = xr.DataArray([1.0, 2.0], dims="x", name="t")
    replies.frames.clear()
    xr.testing.assert_identical(remote.same_dataarray(tiny), tiny)
    (frame,) = replies.message("response")
    assert "dasf_body" not in frame_props(frame)
    assert isinstance(json.loads(frame_payload(frame)), str)  # base64 netCDF inside JSON


# --- 2. on the wire ------------------------------------------------------------------------


def test_a_large_argument_is_binary_for_a_binary_consumer_and_base64_for_the_rest(
    remote, served_binary, spies
):
    url, topic = served_binary
    binary_spy = spies(url, topic, binary=True)
    text_spy = spies(url, topic, binary=False)
    da = random_dataarray(4)
    assert remote.total(da) == pytest.approx(float(da.sum()))

    raw_frames = binary_spy.message("request")
    assert len(raw_frames) >= 8
    for message in raw_frames:
        assert isinstance(message, bytes) and message[0] == 0
        props = frame_props(message)
        assert props["dasf_body"] == BINARY_BODY
        assert props["dasf_accept"] == BINARY_BODY
    raw = reassembled(raw_frames)

    text_frames = text_spy.message("request")
    assert all(isinstance(m, str) for m in text_frames)
    assert len(text_frames) == len(raw_frames)
    sizes = [len(json.loads(m)["payload"]) for m in in_order(text_frames)]
    assert all(size == DEFAULT_FRAGMENT_SIZE for size in sizes[:-1])  # the reference's cut
    assert frame_props(text_frames[0])["dasf_body"] == BINARY_BODY
    assert reassembled(text_frames) == raw

    json_part, nonce, attachments = decode_body(raw)
    request = json.loads(bytes(json_part))
    assert request == {"func_name": "total", "value": placeholder(nonce, 0)}
    assert len(attachments) == 1
    xr.testing.assert_identical(decode_dataarray(bytes(attachments[0])), da)


def test_a_large_result_travels_raw_in_binary_frames(remote, conn, served_binary, spies):
    url, topic = served_binary
    replies = spies(url, conn._channels[topic].response_topic, binary=True)
    assert remote.make_grid(GRID).shape == (GRID, GRID)
    frames = replies.message("response")
    assert len(frames) >= 8 and all(isinstance(m, bytes) for m in frames)
    assert all(frame_props(m)["dasf_body"] == BINARY_BODY for m in frames)
    raw = reassembled(frames)
    json_part, _, attachments = decode_body(raw)
    assert len(json_part) < 200 and len(attachments) == 1
    data = netcdf(expected_grid(GRID))
    assert bytes(attachments[0]) == data
    assert base64.b64encode(data[1000:4000]) not in raw  # raw, not base64
    assert len(raw) < len(data) + 1000


# --- 3. the raw API does not accept binary bodies ------------------------------------------


def test_raw_call_without_accept_binary_gets_base64_text(conn, remote, served_binary):
    topic = served_binary[1]
    assert conn.speaks_binary(topic)
    value = conn.call(topic, {"func_name": "make_grid", "n": GRID})
    assert isinstance(value, str)
    xr.testing.assert_identical(decode_dataarray(value), expected_grid(GRID))
    assert conn.call(topic, {"func_name": "make_bytes", "n": 5000}) == base64.b64encode(
        make_bytes(5000)
    ).decode("ascii")


# --- 4. through the reference broker -------------------------------------------------------


def test_reference_broker_carries_binary_bodies_inside_base64_text(ref_broker_url, spies):
    topic = fresh_topic("rbin")
    handle = serve(ref_broker_url, topic, max_workers=2)
    try:
        with connect(ref_broker_url, timeout=90) as client:
            remote = client.module(topic, timeout=30)
            assert client.speaks_binary(topic)
            replies = spies(ref_broker_url, client._channels[topic].response_topic, binary=True)
            xr.testing.assert_identical(remote.make_grid(GRID), expected_grid(GRID))
            frames = replies.message("response", timeout=60)
            assert len(frames) >= 8 and all(isinstance(m, str) for m in frames)
            assert frame_props(frames[0])["dasf_body"] == BINARY_BODY
            assert reassembled(frames)[:4] == b"DJB1"
            da = random_dataarray(5)
            xr.testing.assert_identical(remote.same_dataarray(da), da)
    finally:
        handle.stop(timeout=5)


# --- 5. sealed modules keep JSON bodies and text frames ------------------------------------


def test_a_sealed_module_gets_no_binary_bodies_and_calls_still_work(
    broker_url, spies, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    topic = fresh_topic("sbin")
    key = tmp_path / "module.pem"
    handle = serve(broker_url, topic, security="encrypted-required", key_path=key)
    try:
        with connect(broker_url, timeout=60, known_modules=tmp_path / "known") as client:
            remote = client.module(topic, timeout=30)
            assert topic in client._binary_topics  # announced, yet not used: sealed
            assert not client.speaks_binary(topic)
            requests = spies(broker_url, topic, binary=True)
            replies = spies(broker_url, client._channels[topic].response_topic, binary=True)
            da = random_dataarray(6)
            xr.testing.assert_identical(remote.same_dataarray(da), da)
            frames = requests.message("request") + replies.message("response")
            assert all(isinstance(m, str) for m in frames)
            assert not any({"dasf_body", "dasf_accept"} & set(frame_props(m)) for m in frames)
            assert remote.make_bytes(BIG_BYTES) == make_bytes(BIG_BYTES)
    finally:
        handle.stop(timeout=5)


# --- 6. bad binary bodies ------------------------------------------------------------------

NONCE = b"\x01" * 8
ATTACHMENT = b"a" * 5000


def _body_json(value: Any, func: str = "same_bytes") -> bytes:
    return json.dumps({"func_name": func, "value": value}).encode()


BAD_BODIES: dict[str, tuple[bytes, str, str]] = {
    "bad-magic": (b"XXXX" + bytes(40), BINARY_BODY, "is not a dasf-jupyter-binary-1 body"),
    "too-short": (b"DJB1" + bytes(5), BINARY_BODY, "is not a dasf-jupyter-binary-1 body"),
    "lengths-too-long": (
        encode_body(_body_json(placeholder(NONCE, 0)), [ATTACHMENT], NONCE) + b"!",
        BINARY_BODY,
        "lengths do not add up",
    ),
    "lengths-too-short": (
        encode_body(_body_json(placeholder(NONCE, 0)), [ATTACHMENT], NONCE)[:-1],
        BINARY_BODY,
        "lengths do not add up",
    ),
    "huge-count": (
        b"DJB1" + NONCE + (2**31).to_bytes(4, "big") + bytes(8),
        BINARY_BODY,
        "bad attachment count",
    ),
    "placeholder-out-of-range": (
        encode_body(_body_json(placeholder(NONCE, 1)), [ATTACHMENT], NONCE),
        BINARY_BODY,
        "unknown attachment",
    ),
    "unknown-format": (_body_json("aGVsbG8="), "something-else", "'something-else'"),
}


def _bad_request(
    url: str, topic: str, raw: bytes, body: str, binary: bool
) -> tuple[dict[str, Any], str]:
    """Publish a request with this payload; return the reply's properties and text."""
    broker = BrokerUrl.parse(url)
    reply_topic = f"{topic}_{fresh_topic('badr')}"  # a broker takes only <topic>_<suffix>
    props = {
        "messageType": "request",
        "requestContext": "17",
        "response_topic": reply_topic,
        "dasf_body": body,
    }
    spy = WireSpy(url, reply_topic, binary=False)
    try:
        with ws_connect(broker.producer(topic), open_timeout=10, max_size=None) as producer:
            if binary:
                producer.send(encode_binary_frame({"properties": props, "context": 17}, raw))
            else:
                text = base64.b64encode(raw).decode()
                producer.send(json.dumps({"payload": text, "properties": props, "context": 17}))
            assert json.loads(producer.recv(timeout=10))["result"] == "ok"
        (reply,) = spy.message("response")
    finally:
        spy.close()
    return frame_props(reply), decode_text_payload(json.loads(reply)["payload"])


@pytest.mark.parametrize("binary", [False, True], ids=["text-frame", "binary-frame"])
@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_bad_body_gets_a_clear_error_and_the_module_keeps_serving(
    served_binary, remote, case, binary
):
    url, topic = served_binary
    raw, body, expected = BAD_BODIES[case]
    props, text = _bad_request(url, topic, raw, body, binary)
    assert props["status"] == "error"
    assert props["requestContext"] == "17"
    assert expected in text
    if body != BINARY_BODY:
        assert BINARY_BODY in text  # says which format the module does read
    assert remote.add(40, 2) == 42


def test_a_placeholder_in_a_body_without_attachments_is_refused(served_binary, remote):
    url, topic = served_binary
    raw = encode_body(_body_json(placeholder(NONCE, 0), "same_text"), [], NONCE)
    props, text = _bad_request(url, topic, raw, BINARY_BODY, binary=True)
    assert props["status"] == "error", f"the function received {text!r}"
    assert "unknown attachment" in text
