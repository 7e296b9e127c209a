"""flit-pure: a single-module distribution built by flit-core."""

__version__ = "0.1.0"

VALUE = "flit-pure"
