"""The bytes-like type that payloads, bodies and fragments are passed around as, uncopied."""

from __future__ import annotations

#: raw bytes as they come (a frame's payload, an attachment, a fragment): read, never copied
Buffer = bytes | bytearray | memoryview
