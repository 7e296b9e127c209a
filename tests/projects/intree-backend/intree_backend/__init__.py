"""intree-backend: a pure package built through an in-tree backend."""

VALUE = "intree-backend"
