"""Keep the client's token out of its own logs.

The websockets library logs every handshake header at DEBUG level, ``Authorization: Token
<key>`` included. Clients and backends log through the ``websockets.client`` logger, so a
filter on that logger redacts those records before any handler (the user's, a notebook's)
sees them.
"""

from __future__ import annotations

import logging

from ..broker.redaction import RedactTokens

#: the logger websockets' client connections use unless given another one
WEBSOCKETS_CLIENT_LOGGER = "websockets.client"


def redact_client_logs() -> None:
    """Add :class:`RedactTokens` to the websockets client logger (once)."""
    logger = logging.getLogger(WEBSOCKETS_CLIENT_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
