"""get-requires-adds: built only if the frontend honours get_requires_for_build_*."""

VALUE = "get-requires-adds"
