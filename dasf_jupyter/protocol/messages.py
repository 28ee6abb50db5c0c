"""Names on the DASF wire: message types, property keys, statuses."""

from __future__ import annotations

from enum import Enum


class MessageType(str, Enum):
    """Value of the ``messageType`` property."""

    PING = "ping"
    PONG = "pong"
    REQUEST = "request"
    RESPONSE = "response"
    INFO = "info"
    API_INFO = "api_info"
    PROGRESS = "progress"
    LOG = "log"


class Status(str, Enum):
    """Value of the ``status`` property (responses and progress reports)."""

    SUCCESS = "success"
    ERROR = "error"
    RUNNING = "running"


class Prop:
    """Property keys of a DASF message (PROTOCOL.md §4)."""

    MESSAGE_TYPE = "messageType"
    REQUEST_CONTEXT = "requestContext"
    RESPONSE_TOPIC = "response_topic"
    SOURCE_TOPIC = "source_topic"
    STATUS = "status"
    FRAGMENT = "fragment"
    NUM_FRAGMENTS = "num_fragments"
    INFO = "info"
    API_INFO = "api_info"
    # dasf-jupyter extensions; reference peers ignore unknown properties
    ERROR_TYPE = "dasf_error_type"
    TRACEBACK = "dasf_traceback"
    CODEC = "dasf_codec"
    #: "1": fail fast instead of being held for a topic without consumers (the caller gives
    #: up when the broker's ack reports no consumer, so a later delivery would run unseen)
    NO_HOLD = "dasf_no_hold"
    #: format of this payload when it is not plain JSON (docs/binary-frames.md §2)
    BODY = "dasf_body"
    #: body format the sender of a request reads in the replies
    ACCEPT = "dasf_accept"
    #: seconds a request may wait in the broker before it must be dropped undelivered: the
    #: caller gives up then (docs/delivery-semantics.md, "Deadlines")
    TTL = "dasf_ttl"


#: top-level api_info key with dasf-jupyter's capabilities (reference peers ignore it):
#: ``{"request_fragments": bool, "description": str | None, "binary_bodies": [str]}``
API_INFO_EXTENSION = "x-dasf-jupyter"

#: the topic that dasf-broker-django reserves for replies to its own probes
STATUS_PING_TOPIC = "status-ping"
