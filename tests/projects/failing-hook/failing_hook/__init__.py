"""failing-hook: never built; its backend's build_wheel raises."""
