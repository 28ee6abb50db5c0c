"""A writable file that keeps large written ``bytes`` by reference instead of copying them.

scipy's netCDF3 writer converts each variable to big-endian (one copy of the value), then
writes ``data.tobytes()`` (a second copy) into the file; a ``BytesIO`` target copies that
once more. Measured with memray for a 200 MB result, the backend then holds the value and
three copies at once. :class:`PiecesWriter` keeps the ``tobytes()`` object itself as one
piece, so the file costs no copy while it is written: one copy of the value less at the peak.
"""

from __future__ import annotations

import io
from bisect import bisect_right

#: writes of ``bytes`` at least this large are kept by reference, not copied
KEEP_BY_REFERENCE = 64 * 1024


class SeekableMemory(io.RawIOBase):
    """An in-memory file's position: ``seek``/``tell`` as ``BytesIO`` has them."""

    _pos = 0

    def _end(self) -> int:
        """The size of the content (where ``SEEK_END`` counts from)."""
        raise NotImplementedError

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError(f"invalid whence {whence}")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos}.get(whence)
        position = (self._end() if base is None else base) + offset
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position


class PiecesWriter(SeekableMemory):
    """Seekable, write-only, in memory; :meth:`joined` gives the whole content."""

    def __init__(self) -> None:
        super().__init__()
        self._pieces: list[bytes | bytearray] = []
        self._starts: list[int] = []
        self._size = 0

    def _end(self) -> int:
        return self._size

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(data).cast("B")
        count = view.nbytes
        if self._pos > self._size:  # a seek past the end: the gap reads as zeros
            self._append(bytes(self._pos - self._size))
        if self._pos < self._size:
            view = self._overwrite(view)
        if view.nbytes:
            whole = isinstance(data, bytes) and view.nbytes == len(data)
            self._append(data if whole and view.nbytes >= KEEP_BY_REFERENCE else view)
        self._pos += count
        return count

    def _append(self, data: bytes | bytearray | memoryview) -> None:
        if isinstance(data, bytes) and len(data) >= KEEP_BY_REFERENCE:
            self._starts.append(self._size)
            self._pieces.append(data)
        elif self._pieces and isinstance(self._pieces[-1], bytearray):
            self._pieces[-1] += data
        else:
            self._starts.append(self._size)
            self._pieces.append(bytearray(data))
        self._size += memoryview(data).nbytes

    def _overwrite(self, view: memoryview) -> memoryview:
        """Write ``view`` over existing content from the position; return what is past the end."""
        pos = self._pos
        while view.nbytes and pos < self._size:
            index = bisect_right(self._starts, pos) - 1
            piece = self._pieces[index]
            if not isinstance(piece, bytearray):  # rare: a header rewrite never lands here
                piece = self._pieces[index] = bytearray(piece)
            offset = pos - self._starts[index]
            count = min(len(piece) - offset, view.nbytes)
            piece[offset : offset + count] = view[:count]
            view, pos = view[count:], pos + count
        return view

    def joined(self) -> bytes | bytearray:
        """The whole content; the pieces are released (one piece is returned as it is)."""
        pieces, self._pieces, self._starts = self._pieces, [], []
        self._size = self._pos = 0
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)
