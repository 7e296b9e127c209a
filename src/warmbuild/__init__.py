"""warmbuild: a Python package installer and PEP 517 build frontend.

The library API: the CLI is a thin client of these functions.
"""

__version__ = "0.1.0"

from .cache import Cache, open_cache
from .errors import WarmbuildError
from .pipeline import InstallRequest, InstallResult, install, uninstall
from .python import Target, find_interpreter, query_target

__all__ = [
    "Cache",
    "InstallRequest",
    "InstallResult",
    "Target",
    "WarmbuildError",
    "find_interpreter",
    "install",
    "open_cache",
    "query_target",
    "uninstall",
]
