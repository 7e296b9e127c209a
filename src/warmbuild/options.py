"""The choices of command-line options and settings, importable without the stages.

The CLI builds its parser from these before it knows which command runs, so that
``warmbuild --version``, ``--help`` and the read-only commands import no stage they do not use.
"""

#: How the indexes' answers are combined (``index.Finder``; uv's names).
STRATEGIES = ("first-index", "unsafe-first-match", "unsafe-best-match")
#: Where index credentials may come from besides the URL and ~/.netrc (``credentials``).
KEYRING_PROVIDERS = ("disabled", "subprocess")
#: ``compiler-cache`` values; ``none`` turns a cache set in an outer layer off.
COMPILER_CACHES = ("sccache", "ccache", "none")
#: How files of cached unpacked wheels get into an environment (``unpack.place``).
LINK_MODES = ("clone", "hardlink", "copy")
#: ``tree --depth``: deeper than any real dependency chain.
MAX_DEPTH = 255
#: Older sdists whose metadata one resolution may prepare while backtracking (``depreader``).
DEFAULT_MAX_SDIST_BUILDS = 10
