"""The floor stack: the cheapest 4-hop websocket RPC we can write in Python, as a yardstick.

A bare asyncio ``websockets`` relay (:mod:`.relay`) forwards each binary frame published on
``/pub/<topic>`` to the next consumer of ``/sub/<topic>`` (round-robin; no acks, auth,
database, persistence or fragmentation); a backend (:mod:`.backend`) serves the four
benchmark functions on it; a client (:mod:`.client`) on the sync ``websockets`` client
correlates replies by id. Frames are :mod:`.wire` (a JSON head, then raw bytes).
"""
