"""The few exception classes warmbuild raises; each carries what the user must see.

The CLI turns any :class:`WarmbuildError` into one paragraph (message, cause, hint)
and a non-zero exit; everything else is a bug and shows a traceback.
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
    """Bad command-line input or configuration."""

    exit_code = 2


class TargetError(WarmbuildError):
    """The target interpreter or environment cannot be used."""


class RequirementError(WarmbuildError):
    """A requirement, requirements file or constraint that cannot be parsed."""


class NetworkError(WarmbuildError):
    """An index or URL that cannot be reached or answers with an error."""


class HashMismatchError(WarmbuildError):
    """A downloaded file whose hash is not one of those expected."""


class ResolutionError(WarmbuildError):
    """No set of distributions satisfies the requirements."""


class InstallError(WarmbuildError):
    """Installing or uninstalling failed; the environment was rolled back."""


class SourceError(WarmbuildError):
    """A source tree that cannot be built as it is (no project, bad pyproject.toml)."""


class BuildError(WarmbuildError):
    """A build backend or its hook failed, or a build environment could not be made."""


class CacheError(WarmbuildError):
    """A cache entry that is damaged and cannot be replaced (offline), or cannot be used."""
