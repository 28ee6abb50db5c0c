"""Backend side: check and open incoming requests, seal what goes back.

The backend calls two hooks per request::

    payload, sec = policy.inbound(envelope.properties, envelope.payload, topic)
    ...                                    # validate and run with sec.caller
    payload, props = sec.outbound(payload, props)   # every progress/log/response, before
                                                     # fragmenting, with final properties
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProtocolError
from .advertise import API_INFO_KEY, E2E_PROPERTY, SecurityInfo, SecurityMode
from .allowlist import AllowList
from .caller import Caller
from .errors import EncryptionRequired, EncryptionUnsupported, MalformedSealed, StaleTimestamp
from .keys import ModuleKeyPair
from .replay import ReplayStore
from .sealing import E2E_VERSION, OpenedRequest, open_request, reply_aad, request_aad, seal_reply
from .signatures import DEFAULT_WINDOW, ReplayCache, is_signed, signer_fingerprint, verify_request

#: replay-store namespace of the nonces sealed inside requests (signature nonces use the
#: signer's fingerprint)
SEALED_NAMESPACE = "sealed"


def member_name(payload: bytes) -> str | None:
    """``func_name``, ``class_name`` or ``Class.method`` of a request payload (None if unclear)."""
    try:
        request = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(request, dict):
        return None
    if isinstance(request.get("class_name"), str):
        method = request.get("function")
        if isinstance(method, dict) and isinstance(method.get("func_name"), str):
            return f"{request['class_name']}.{method['func_name']}"
        return request["class_name"]
    name = request.get("func_name")
    return name if isinstance(name, str) else None


@dataclass(frozen=True)
class RequestSecurity:
    """What the backend knows about one request: the caller and how to answer."""

    topic: str
    request_context: str
    reply_key: bytes | None = field(default=None, repr=False)
    caller: Caller | None = None

    @property
    def sealed(self) -> bool:
        return self.reply_key is not None

    def outbound(
        self, payload_text: str, properties: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Seal a reply payload (base64 text) if the request was sealed; else unchanged."""
        if self.reply_key is None:
            return payload_text, properties
        try:
            plain = base64.b64decode(payload_text, validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError("reply payload is not valid base64") from None
        aad = reply_aad(
            self.topic,
            self.request_context,
            str(properties.get("messageType", "")),
            str(properties.get("status", "")),
        )
        sealed = seal_reply(plain, self.reply_key, aad)
        return sealed, {**properties, E2E_PROPERTY: E2E_VERSION}


class SecurityPolicy:
    """A module's encryption mode, key pair and caller checks."""

    def __init__(
        self,
        mode: SecurityMode | str = SecurityMode.PLAIN,
        keypair: ModuleKeyPair | None = None,
        allow_list: AllowList | None = None,
        *,
        require_auth: bool = False,
        window: float = DEFAULT_WINDOW,
        replay_cache: ReplayStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mode = SecurityMode(mode)
        if self.mode is not SecurityMode.PLAIN and keypair is None:
            raise ValueError(f"mode {self.mode.value!r} needs a keypair")
        if require_auth and allow_list is None:
            raise ValueError("require_auth needs an allow_list")
        self.keypair = keypair
        self.allow_list = allow_list
        self.require_auth = require_auth
        self.window = window
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache(window)
        self.clock = clock

    def info(self) -> SecurityInfo:
        """What api_info announces (no key in plain mode)."""
        key = self.keypair if self.mode is not SecurityMode.PLAIN else None
        return SecurityInfo(
            mode=self.mode,
            public_key=key.public_key if key else None,
            fingerprint=key.fingerprint if key else None,
            auth_required=self.require_auth,
        )

    def api_info_extension(self) -> dict[str, Any]:
        """``{"x-dasf-security": {...}}`` to merge into the module's api_info."""
        return {API_INFO_KEY: self.info().to_json()}

    def inbound(
        self, envelope_properties: dict[str, Any], payload_text: str, topic: str
    ) -> tuple[str, RequestSecurity]:
        """Open and authenticate a request; return the plain payload text and its context.

        Non-request messages (ping, info, api_info) pass unchanged. Raises a
        :class:`SecurityError` subclass whose message can go into the error response.
        """
        props = envelope_properties
        context = str(props.get("requestContext", ""))
        if props.get("messageType") != "request":
            return payload_text, RequestSecurity(topic, context)
        reply_key = None
        if E2E_PROPERTY in props:
            opened = self._open(props, payload_text, topic, context)
            self._check_fresh(opened)
            plain, reply_key = opened.payload, opened.reply_key
            plain_text = base64.b64encode(plain).decode("ascii")
        else:
            if self.mode is SecurityMode.ENCRYPTED_REQUIRED:
                raise EncryptionRequired(
                    "this module accepts only encrypted requests; call it with a dasf-jupyter "
                    "client, which seals requests to the key announced in api_info"
                )
            try:
                plain = base64.b64decode(payload_text, validate=True)
            except (binascii.Error, ValueError):
                raise ProtocolError("request payload is not valid base64") from None
            plain_text = payload_text
        caller = None
        if self.require_auth or is_signed(props):
            caller = verify_request(
                props,
                payload_text,
                topic,
                self.allow_list,
                now=self.clock(),
                window=self.window,
                replay_cache=self.replay_cache,
                function=member_name(plain),
            )
        return plain_text, RequestSecurity(topic, context, reply_key, caller)

    def _check_fresh(self, opened: OpenedRequest) -> None:
        """Refuse a sealed request outside the window or seen before (by any replica)."""
        now = self.clock()
        if opened.timestamp < now - self.window:
            raise StaleTimestamp(
                f"the request was sealed {int(now - opened.timestamp)} s ago (expired; "
                f"requests older than {self.window:g} s are refused as possible replays)"
            )
        if opened.timestamp > now + self.window:
            raise StaleTimestamp(
                f"the request is sealed {int(opened.timestamp - now)} s in the future "
                "(check the clock)"
            )
        self.replay_cache.add(SEALED_NAMESPACE, opened.nonce, opened.timestamp, now)

    def _open(
        self, props: dict[str, Any], payload_text: str, topic: str, context: str
    ) -> OpenedRequest:
        if self.mode is SecurityMode.PLAIN or self.keypair is None:
            raise EncryptionUnsupported(
                "this module runs in plain mode and cannot decrypt sealed requests"
            )
        if props[E2E_PROPERTY] != E2E_VERSION:
            raise MalformedSealed(f"unsupported sealing version {props[E2E_PROPERTY]!r}")
        aad = request_aad(topic, context, "request", signer_fingerprint(props))
        return open_request(payload_text, self.keypair, aad)
