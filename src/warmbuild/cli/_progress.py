"""Live progress on a terminal: a transient rich display on stderr.

Rows: the current status, counts as ``n/N`` with a bar, each download with its bytes, and
each build with its elapsed time (``Building native-demo (12.3 s)``). Imported only when a
terminal will show it: rich costs a noticeable part of a second to import.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, ProgressColumn, SpinnerColumn
from rich.progress import Task as RichTask
from rich.text import Text

from .._log import Task, TaskKind


class _LiveTask:
    def __init__(self, progress: Progress, task_id: Any) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._id, amount)

    def set_total(self, total: int | None) -> None:
        self._progress.update(self._id, total=total)

    def done(self) -> None:
        self._progress.remove_task(self._id)


class LiveReporter:
    """A :class:`warmbuild._log.Reporter`; a context manager that starts and clears the
    display."""

    def __init__(self, *, color: bool) -> None:
        self.console = Console(stderr=True, color_system="auto" if color else None,
                               no_color=not color)
        # stdout is for results (paths, JSON): never routed through the display.
        self._progress = Progress(SpinnerColumn(), _Label(), _Bar(), _Detail(),
                                  console=self.console, transient=True, redirect_stdout=False)
        self._status = self._progress.add_task("Starting", kind="status", total=None)

    def __enter__(self) -> LiveReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def status(self, text: str) -> None:
        self._progress.update(self._status, description=text)

    def start(self, kind: TaskKind, label: str, total: int | None = None) -> Task:
        return _LiveTask(self._progress, self._progress.add_task(label, kind=kind,
                                                                  total=total))


class _Label(ProgressColumn):
    """The row's text; a build's carries its elapsed time."""

    def render(self, task: RichTask) -> Text:
        if task.fields.get("kind") == "build":
            return Text(f"Building {task.description} ({task.elapsed or 0:.1f} s)")
        return Text(task.description)


class _Bar(BarColumn):
    """A bar for counts and downloads only."""

    def render(self, task: RichTask) -> Any:
        if task.fields.get("kind") not in ("count", "bytes"):
            return Text("")
        return super().render(task)


class _Detail(DownloadColumn):
    """``3/12`` for counts, ``1.2/3.4 MB`` for downloads (``1.2 MB`` without a size)."""

    def render(self, task: RichTask) -> Text:
        kind = task.fields.get("kind")
        if kind == "count":
            return Text(f"{int(task.completed)}/{int(task.total or 0)}")
        if kind == "bytes":
            return super().render(task)
        return Text("")
