"""Keep tokens out of log lines: ``?token=…`` query strings and ``Authorization`` values."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"

# token=<value> in a query string or URL (also URL-encoded: token%3D…)
_QUERY_TOKEN = re.compile(r"(?i)(\btoken(?:=|%3D))[^&\s\"'<>#;,()\[\]]+")
# Authorization: Token <key> / Bearer <key>, as header text or inside a repr of headers
_AUTH_VALUE = re.compile(r"(?i)(\b(?:token|bearer)\s+)[A-Za-z0-9._~+/=-]{8,}")
# a whole Authorization header value, whatever its form (debug logs print every header)
_AUTH_HEADER = re.compile(r"(?i)(\bauthorization['\"]?\s*[:=,]\s*(?-i:b)?['\"]?)[^'\"\r\n]+")


def redact(text: str) -> str:
    """``text`` with every token value replaced by ``[redacted]``."""
    text = _QUERY_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    text = _AUTH_HEADER.sub(rf"\g<1>{REDACTED}", text)
    return _AUTH_VALUE.sub(rf"\g<1>{REDACTED}", text)


def _redact_arg(value: Any) -> Any:
    """A log argument without tokens; numbers and clean values are kept as they are."""
    if isinstance(value, (int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else str(value)
    clean = redact(text)
    return value if clean == text else clean


class RedactTokens(logging.Filter):
    """A handler filter that rewrites records so that no token reaches any output.

    The arguments are redacted one by one (formatters such as uvicorn's access log unpack
    them), then the message as a whole.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        else:
            record.msg = _redact_arg(record.msg)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it
            message = None
        if message is not None and redact(message) != message:
            # the token shows only once put together ("< %s: %s" % (name, value))
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def redact_all_handlers() -> None:
    """Add :class:`RedactTokens` to every handler configured so far (root and named loggers)."""
    loggers = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    handlers = [h for logger in loggers for h in logger.handlers]
    if logging.lastResort is not None:  # prints for loggers without handlers
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
