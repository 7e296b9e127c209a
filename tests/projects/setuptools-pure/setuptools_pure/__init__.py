"""setuptools-pure: a pure package built by setuptools."""

VALUE = "setuptools-pure"
