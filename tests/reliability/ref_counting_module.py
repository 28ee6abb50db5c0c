"""A demessaging backend module that records each execution with its process id.

``python -m tests.reliability.ref_counting_module --websocket-url URL -t TOPIC listen``;
executions go to ``$DASF_COUNT_FILE`` as ``<tag> <pid>`` lines.
"""

# No ``from __future__ import annotations``: demessaging resolves the real annotation objects.
import os

from demessaging import main
from demessaging.config import ModuleConfig, WebsocketURLConfig

__all__ = ["echo"]


def echo(tag: str) -> str:
    """Record the call and return its tag.

    Parameters
    ----------
    tag : str
        names the call

    Returns
    -------
    str
        the tag
    """
    with open(os.environ["DASF_COUNT_FILE"], "a", encoding="utf-8") as stream:
        stream.write(f"{tag} {os.getpid()}\n")
    return tag


if __name__ == "__main__":
    main(config=ModuleConfig(messaging_config=WebsocketURLConfig(topic="ref-counting")))
