"""A second backend module for the TypeScript client's live tests: text in, text out."""

from __future__ import annotations

__all__ = ["echo", "repeat"]


def echo(text: str) -> str:
    """Return the text unchanged (checks UTF-8 both ways).

    Parameters
    ----------
    text : str
        any text

    Returns
    -------
    str
        the same text
    """
    return text


def repeat(text: str, times: int) -> list[str]:
    """Return a list of ``times`` copies of the text (large results are fragmented).

    Parameters
    ----------
    text : str
        the text to repeat
    times : int
        number of copies

    Returns
    -------
    list[str]
        the copies
    """
    if times < 0:
        raise ValueError(f"times must not be negative, got {times}")
    return [text] * times
