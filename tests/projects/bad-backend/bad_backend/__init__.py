"""bad-backend: never built; its build-backend cannot be imported."""
