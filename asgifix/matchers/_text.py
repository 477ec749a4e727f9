"""Helpers that keep a finding's message one short sentence (at most about 120 characters).

The message says what breaks; quoted code in it is cut with an ellipsis, and the details
(the disagreeing pins, the releases, the evidence) go to the finding's hint and notes.
"""

from __future__ import annotations


def short(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
