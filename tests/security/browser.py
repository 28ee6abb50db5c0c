"""Websocket handshakes byte for byte as a browser sends them (Chromium's header set)."""

from __future__ import annotations

import base64
import os
import socket

CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def browser_handshake(
    port: int,
    path: str,
    origin: str | None,
    host_header: str | None = None,
    extra: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, str]:
    """Send a browser's websocket upgrade request to 127.0.0.1:``port``; return status, body."""
    headers = {
        "Host": host_header or f"127.0.0.1:{port}",
        "Connection": "Upgrade",
        "Pragma": "no-cache",
        "Cache-Control": "no-cache",
        "User-Agent": CHROME_UA,
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Accept-Language": "en-US,en;q=0.9",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode("ascii"),
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
    }
    if origin is not None:
        headers["Origin"] = origin
    headers.update(extra or {})
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall((request + "\r\n").encode("latin-1"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status == 101:
            return status, ""
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            None,
        )
        while length is not None and len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, body.decode("utf-8", errors="replace")
