"""Python side of skbuild-inplace: value() comes from the CMake-built C extension."""

from ._native import value

__all__ = ["value"]
