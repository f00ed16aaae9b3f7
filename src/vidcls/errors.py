"""Errors about the user's input. The CLI prints them as one line and exits with status 2."""

from __future__ import annotations

from pathlib import Path


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none): the reason in a one-line error."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class VidclsError(Exception):
    """Bad input that the user must fix; the message names the file, folder or line at fault."""


class DatasetError(VidclsError, ValueError):
    """A dataset definition that cannot be used (missing folder, unknown label, ...)."""


class VideoReadError(VidclsError, RuntimeError):
    """A video that cannot be opened or decoded: ``path`` and ``reason`` apart, the message ``"<path>: <reason>"``."""

    def __init__(self, message: str, *, path: str | Path | None = None, reason: str | None = None):
        # A single message argument so the error survives being re-raised from a DataLoader worker.
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        self.reason = message if reason is None else reason

    @classmethod
    def for_file(cls, path: str | Path, reason: str) -> VideoReadError:
        """The error for one file, so that reports show the reason beside the path without cutting the message."""
        return cls(f"{path}: {reason}", path=path, reason=reason)
