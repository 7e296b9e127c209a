"""Python side of meson-pybind: value() comes from the pybind11 extension."""

from ._ext import value

__all__ = ["value"]
