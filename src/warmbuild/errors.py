"""The exception classes warmbuild raises; each carries what the user must see.

The CLI turns any :class:`WarmbuildError` into one paragraph (message, cause, hint) and a
non-zero exit; everything else is a bug (an internal error). There is a subclass only where
an error behaves differently: a different exit status, or a caller that catches it.
"""

from __future__ import annotations


class WarmbuildError(Exception):
    """An error the user can act on.

    ``message`` says what failed, naming the file, package or hook; ``cause`` is the
    detail from below (an HTTP status, an exception); ``hint`` what to do. ``output`` is
    another program's output (a backend's last lines), shown exactly as it was written, and
    ``log`` the file that holds all of it.
    """

    exit_code = 1

    def __init__(self, message: str, *, cause: str | None = None, hint: str | None = None,
                 output: tuple[str, ...] = (), log: str | None = None):
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.hint = hint
        self.output = output
        self.log = log

    def __str__(self) -> str:
        parts = [self.message]
        if self.cause:
            parts.append(self.cause)
        parts.extend(self.output)
        if self.log:
            parts.append(f"full log: {self.log}")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UsageError(WarmbuildError):
    """Bad command-line input or configuration: exit status 2, as argparse's."""

    exit_code = 2


class NetworkError(WarmbuildError):
    """An index or URL that cannot be reached or answers with an error; the finder keeps
    it for the project, so that one dead index costs its retries once per run."""


class BuildError(WarmbuildError):
    """A build backend or its hook failed, or a build environment could not be made; while
    resolving, the dependency reader turns it into part of the conflict it explains."""
