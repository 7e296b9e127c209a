"""warmbuild: a Python package installer and PEP 517 build frontend."""

__version__ = "0.1.0"
