"""warmbuild: a Python package installer and PEP 517 build frontend.

The library API: the CLI is a thin client of these functions. They are imported on first
use (PEP 562), so that ``import warmbuild`` (and ``warmbuild --version``) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .cache import Cache, open_cache
    from .errors import WarmbuildError
    from .pipeline import InstallRequest, InstallResult, install, uninstall
    from .pyfind import find_interpreter
    from .python import Target, query_target

_HOMES = {
    "Cache": "cache", "open_cache": "cache", "WarmbuildError": "errors",
    "InstallRequest": "pipeline", "InstallResult": "pipeline", "install": "pipeline",
    "uninstall": "pipeline", "Target": "python", "find_interpreter": "pyfind",
    "query_target": "python",
}

__all__ = [
    "Cache", "InstallRequest", "InstallResult", "Target", "WarmbuildError", "find_interpreter",
    "install", "open_cache", "query_target", "uninstall",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'warmbuild' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
