"""How a failed GitHub call reaches the bot: ``GitHubError``, with secrets kept out of it.

``redact`` is the one place that knows what a token, a JWT or a PEM key looks like;
every message a ``GitHubError`` carries goes through it.
"""

from __future__ import annotations

import re

_SECRET_RE = re.compile(
    r"-----BEGIN[^-]*-----.*?-----END[^-]*-----"
    r"|\bgh[opsuer]_[A-Za-z0-9_]+"
    r"|\bgithub_pat_[A-Za-z0-9_]+"
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\b(?:token|bearer)\s+[A-Za-z0-9_.-]{20,}",
    re.IGNORECASE | re.DOTALL,
)


def redact(text: str) -> str:
    """Text with anything shaped like a token, a JWT or a PEM key replaced."""
    return _SECRET_RE.sub("[redacted]", text)


class GitHubError(Exception):
    """GitHub refused, failed or did not answer; ``status`` is 0 when there was no answer.

    ``ambiguous``: a request that is not safe to repeat (a POST creating a comment) failed
    in a way that leaves open whether GitHub applied it (a timeout, a ``5xx``).
    """

    def __init__(self, status: int, message: str, *, method: str = "", path: str = "",
                 ambiguous: bool = False) -> None:
        self.status = status
        self.message = redact(message)
        self.method = method
        self.path = path
        self.ambiguous = ambiguous
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{status or 'no answer'}: {self.message}")
