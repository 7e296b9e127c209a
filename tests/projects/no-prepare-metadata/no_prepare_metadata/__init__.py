"""no-prepare-metadata: built by a backend that has only build_wheel and build_sdist."""

VALUE = "no-prepare-metadata"
