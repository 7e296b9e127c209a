"""Index credentials from a keyring, through the ``keyring`` command (pip's and uv's
``--keyring-provider subprocess``).

As in uv, the keyring is asked only for a URL that names a username without a password
(``https://user@host/simple``): ``keyring get <url> <user>``, then ``keyring get <host>
<user>`` (``host:port`` when the URL has a port). The command runs outside warmbuild's
process, so whichever ``keyring`` (and backends) the user installed answers.
"""

from __future__ import annotations

import shutil
import subprocess

from ._log import logger


def keyring_password(urls: tuple[str, ...], username: str) -> str | None:
    """The first password the ``keyring`` command has for one of ``urls`` and ``username``."""
    command = shutil.which("keyring")
    if command is None:
        logger.warning("warning: --keyring-provider subprocess: there is no `keyring` command "
                       "on PATH, so no password was looked up for %s", username)
        return None
    for service in urls:
        try:
            proc = subprocess.run([command, "get", service, username], capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("warning: `keyring get %s %s` failed: %s", service, username, exc)
            return None
        # The keyring CLI prints the password and a newline; it exits 1 when it has none.
        password = proc.stdout.rstrip("\r\n")
        if proc.returncode == 0 and password:
            logger.debug("Found a password for %s in the keyring (%s)", username, service)
            return password
        logger.debug("keyring has no password for %s at %s", username, service)
    return None
