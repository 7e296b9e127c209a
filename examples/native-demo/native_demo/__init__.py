"""native-demo: total() sums 24 small C++ computations (one per translation unit)."""

from ._core import total, units

__all__ = ["total", "units"]
