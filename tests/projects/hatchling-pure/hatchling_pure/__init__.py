"""hatchling-pure: a pure package with a console script."""

VALUE = "hatchling-pure"


def main() -> None:
    print(VALUE)
