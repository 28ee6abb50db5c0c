"""What a :class:`~.session.ClientSession` reports about its calls: one small type per event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..protocol.envelope import Envelope
from .calls import CallState

#: the caller's call type (a :class:`CallState`, or a subclass with a future)
C = TypeVar("C", bound=CallState)


@dataclass(frozen=True, slots=True)
class Result(Generic[C]):
    """The call succeeded with ``value`` (the raw JSON result); the call has ended."""

    call: C
    value: Any


@dataclass(frozen=True, slots=True)
class Failed(Generic[C]):
    """The call failed (remote error, timeout, refusal, dropped reply); it has ended."""

    call: C
    error: BaseException


@dataclass(frozen=True, slots=True)
class Progress(Generic[C]):
    """A progress report of a running call."""

    call: C
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Log(Generic[C]):
    """A log record of a running call."""

    call: C
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Ping:
    """A liveness ping arrived on the response topic; a pong may answer it."""

    envelope: Envelope


Event = Result[C] | Failed[C] | Progress[C] | Log[C] | Ping
