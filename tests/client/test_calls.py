"""Our client calls our backend: every supported type, errors, progress, concurrency.

Here on the in-memory broker; the same tests run over real websockets through
dasf-broker-django in ``tests/interop/test_client_via_reference_broker.py`` (it overrides
``served`` and ``client_transport``).
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dasf_jupyter.client import connect
from dasf_jupyter.errors import CallTimeout, RemoteError
from dasf_jupyter.protocol import Envelope, MessageType, Prop, b64encode


@pytest.fixture(scope="module")
def remote(served, client_transport):
    url, topic = served
    with connect(url, timeout=120, transport=client_transport) as conn:
        yield conn.module(topic, timeout=30)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("same_int", -(2**53)),
        ("same_float", 0.1),
        ("same_str", 'grüße ✓ "quoted" \n newline'),
        ("same_bool", True),
        ("same_list", [1, 2, 3]),
        ("same_dict", {"a": 1.5, "b": -2.0}),
        ("same_optional", None),
        ("same_optional", 7),
        ("same_literal", "b"),
        ("same_color", "green"),
    ],
)
def test_json_values_round_trip(remote, name, value):
    assert getattr(remote, name)(value) == value


def test_datetime_round_trips(remote):
    when = dt.datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=dt.timezone.utc)
    assert remote.same_datetime(when) == when


def test_nested_model_round_trips_as_dict(remote):
    assert remote.same_point({"x": 1.0, "y": 2.5}) == {"x": 1.0, "y": 2.5, "label": ""}


def test_numpy_array_round_trips(remote):
    array = np.arange(12, dtype="int32").reshape(3, 4)
    out = remote.same_array(array)
    assert isinstance(out, np.ndarray)
    assert out.dtype == array.dtype
    np.testing.assert_array_equal(out, array)


def test_dataarray_round_trips(remote):
    da = xr.DataArray(
        np.random.default_rng(0).normal(size=(3, 5)),
        dims=("lat", "lon"),
        coords={"lat": [1.0, 2.0, 3.0]},
        name="tas",
        attrs={"units": "K"},
    )
    out = remote.same_dataarray(da)
    assert isinstance(out, xr.DataArray)
    xr.testing.assert_identical(out, da)


def test_dataset_round_trips(remote):
    ds = xr.Dataset({"a": ("x", np.arange(4.0)), "b": ("x", np.ones(4))}, attrs={"title": "t"})
    out = remote.same_dataset(ds)
    assert isinstance(out, xr.Dataset)
    xr.testing.assert_identical(out, ds)


def test_dataframe_and_series_round_trip(remote):
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]})
    pd.testing.assert_frame_equal(remote.same_frame(frame), frame)
    series = pd.Series([1.0, 2.0, 4.0], name="s")
    pd.testing.assert_series_equal(remote.same_series(series), series)


def test_a_class_method_is_called_with_constructor_arguments(remote):
    counter = remote.Counter(start=10)
    assert counter.plus(5) == 15
    assert remote.Counter().plus(n=1) == 1


def test_remote_exception_carries_type_and_message_and_module_keeps_serving(remote):
    with pytest.raises(RemoteError) as info:
        remote.fail("nope, bad value")
    assert info.value.exc_type == "ValueError"
    assert "nope, bad value" in str(info.value)
    assert remote.add(1, 2) == 3


def test_a_wrong_type_is_rejected_by_the_backend_and_module_keeps_serving(url_topic_conn):
    conn, topic = url_topic_conn
    with pytest.raises(RemoteError) as info:
        conn.call(topic, {"func_name": "add", "a": "not a number"})
    assert "a" in str(info.value)
    with pytest.raises(RemoteError):
        conn.call(topic, {"func_name": "no_such_function"})
    assert conn.call(topic, {"func_name": "add", "a": 1}) == 2


@pytest.mark.parametrize(
    "payload",
    [b64encode(b"{not json"), b64encode(b"\xff\xfe\x00 not utf-8"), b64encode(b"[1, 2]")],
    ids=["invalid-json", "not-utf8", "not-an-object"],
)
def test_malformed_payloads_get_an_error_response_and_module_keeps_serving(
    url_topic_conn, payload
):
    conn, topic = url_topic_conn
    # bypass the stubs: send bytes no well-behaved client would produce
    call = conn._new_call(topic, "malformed request", 30.0)
    envelope = Envelope(payload, {Prop.MESSAGE_TYPE: MessageType.REQUEST.value})
    conn._channel(topic).send(call, envelope, None)
    with pytest.raises(RemoteError):
        call.future.result(timeout=60)
    assert conn.call(topic, {"func_name": "add", "a": 41}) == 42


def test_progress_reaches_the_caller(remote):
    reports: list[dict] = []
    assert remote.count_slowly.options(on_progress=reports.append)(4) == 4
    assert reports, "no progress report arrived"
    assert any("step 4 of 4" in str(r) for r in reports)


def test_printed_output_reaches_the_caller_as_log_records(remote, caplog):
    records: list[dict] = []
    assert remote.shout.options(on_log=records.append)("hey") == "HEY"
    assert any(r["message"] == "shouting hey" for r in records)
    assert any(r["level"] == "WARNING" for r in records)
    with caplog.at_level("INFO", logger="dasf_jupyter.remote"):
        assert remote.shout("ho") == "HO"
    assert "shouting ho" in caplog.text


def test_submit_returns_futures_that_resolve(remote):
    futures = [remote.add.submit(i, 1) for i in range(10)]
    assert all(isinstance(f, Future) for f in futures)
    assert [f.result(timeout=60) for f in futures] == [i + 1 for i in range(10)]


def test_a_slow_call_times_out_with_call_timeout(remote):
    with pytest.raises(CallTimeout, match="within 1 s"):
        remote.sleep.options(timeout=1)(3.0)
    assert remote.add(2, 2) == 4


def test_progress_resets_the_call_timeout(remote):
    # 8 steps x 0.6 s = 4.8 s total, far above the 2.5 s timeout, but progress keeps it alive
    assert remote.count_slowly.options(timeout=2.5)(8, delay=0.6) == 8


@pytest.fixture
def concurrency() -> tuple[int, int]:
    """(threads, calls per thread) for the multiplexing test."""
    return 8, 20


def test_many_threads_with_many_concurrent_calls_are_all_correct(remote, concurrency):
    n_threads, n_calls = concurrency
    results: dict[tuple[int, int], int] = {}
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            futures = {(t, i): remote.add.submit(t * 1000, i) for i in range(n_calls)}
            for key, future in futures.items():
                results[key] = future.result(timeout=300)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=400)
    assert not errors
    assert len(results) == n_threads * n_calls
    assert all(value == t * 1000 + i for (t, i), value in results.items())


def test_a_50_mb_dataarray_result_arrives_intact(remote):
    n = 2500  # 2500 x 2500 float64 = 50 MB
    grid = remote.big_grid(n)
    assert isinstance(grid, xr.DataArray)
    assert grid.shape == (n, n)
    assert grid.nbytes == 50_000_000
    np.testing.assert_array_equal(
        grid.values[::499, ::499], np.arange(n * n, dtype="float64").reshape(n, n)[::499, ::499]
    )
    assert float(grid.values.sum()) == float(np.arange(n * n, dtype="float64").sum())


def test_a_10_mb_dataarray_argument_goes_both_ways(remote):
    values = np.random.default_rng(1).normal(size=(1250, 1000))  # 10 MB of float64
    da = xr.DataArray(values, dims=("y", "x"), name="noise")
    out = remote.same_dataarray(da)
    xr.testing.assert_identical(out, da)


@pytest.fixture
def url_topic_conn(served, client_transport):
    url, topic = served
    with connect(url, timeout=60, transport=client_transport) as conn:
        yield conn, topic
