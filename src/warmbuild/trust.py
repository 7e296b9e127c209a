"""Whom the HTTP client trusts: CA bundles, the system trust store, client certificates,
``--trusted-host``, and when plain HTTP is allowed.

A CA bundle from a setting (``--cert``, ``PIP_CERT``, pip's ``cert``, ``REQUESTS_CA_BUNDLE``,
``SSL_CERT_FILE``) replaces the default trust, as it does for pip and uv. Without one, the
system trust store is used through ``truststore`` (as pip does), so a CA that IT installed
into the OS works without configuration. A trusted host may be reached over plain HTTP and
its certificate is not verified; every other host needs HTTPS, except the loopback
addresses and ``localhost``, which pip also counts as secure.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import NetworkError

if TYPE_CHECKING:
    import ssl


@dataclass(frozen=True)
class NetworkSettings:
    #: A PEM CA bundle that replaces the default trust, and where that setting came from.
    cert: str | None = None
    cert_source: str = "default"
    #: A PEM file with a client certificate and its key (as pip's ``--client-cert``).
    client_cert: str | None = None
    client_cert_source: str = "default"
    #: ``host`` or ``host:port`` (a URL is taken for its host and port).
    trusted_hosts: tuple[str, ...] = ()
    keyring_provider: str = "disabled"
    #: pip's ``--timeout``, ``--retries`` and ``--proxy`` (``None``: the client's defaults,
    #: the environment's proxies).
    timeout: float | None = None
    retries: int | None = None
    proxy: str | None = None

    def is_trusted(self, url: str) -> bool:
        """Whether ``url``'s host is a ``--trusted-host`` (a bare host matches any port)."""
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
        for entry in self.trusted_hosts:
            trusted = urlsplit(entry if "://" in entry else f"//{entry}")
            if (trusted.hostname or "").lower() == host and trusted.port in (None, port):
                return True
        return False

    def check_scheme(self, url: str) -> None:
        """Refuse plain HTTP to a host that is neither trusted nor this machine."""
        parts = urlsplit(url)
        if parts.scheme != "http" or _is_local(parts.hostname or "") or self.is_trusted(url):
            return
        host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        raise NetworkError(
            f"{_without_userinfo(url)}: plain HTTP to {host}, which is not a trusted host",
            hint=f"use https://, or if this host is meant to be reached without TLS pass "
                 f"--trusted-host {host} (or PIP_TRUSTED_HOST, pip's `trusted-host`, or "
                 "`--trusted-host` in the requirements file)")

    def ssl_context(self, *, verify: bool) -> ssl.SSLContext:
        """A client context: the CA bundle or the system store, and the client certificate."""
        import ssl

        if not verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.cert is not None:
            try:
                ctx = ssl.create_default_context(cafile=self.cert)
            except (OSError, ssl.SSLError) as exc:
                raise NetworkError(
                    f"cannot read the CA bundle {self.cert} (from {self.cert_source})",
                    cause=str(exc), hint="point that setting at a PEM file of CA "
                    "certificates, or unset it to use the system trust store") from exc
        else:
            ctx = _system_context()
        if self.client_cert is not None:
            try:
                ctx.load_cert_chain(self.client_cert)
            except (OSError, ssl.SSLError) as exc:
                raise NetworkError(
                    f"cannot read the client certificate {self.client_cert} (from "
                    f"{self.client_cert_source})", cause=str(exc),
                    hint="it must be one PEM file with the certificate and its private key "
                         "(unencrypted), as for pip's --client-cert") from exc
        return ctx

    def tls_error(self, url: str, reason: BaseException) -> NetworkError:
        """The one-paragraph error for a failed TLS handshake, naming the setting to use."""
        host = urlsplit(url).hostname or url
        text = str(reason)
        if not any(s in text for s in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed",
                                       "Hostname mismatch", "doesn't match")):
            # Not our verdict on the server: most often the server wants a client
            # certificate (TLS 1.3 says so only after the handshake, or by hanging up).
            return NetworkError(
                f"the TLS handshake with {host} failed", cause=text,
                hint="if the server asks for a client certificate, pass it with --client-cert "
                     "FILE (or PIP_CLIENT_CERT, pip's `client-cert`): one PEM file with the "
                     "certificate and its key" if self.client_cert is None else
                     f"check that the server accepts the client certificate {self.client_cert} "
                     f"(from {self.client_cert_source})")
        trusted = (f"{self.cert} (from {self.cert_source})" if self.cert
                   else "the system trust store")
        return NetworkError(
            f"the TLS certificate of {host} could not be verified against {trusted}",
            cause=text,
            hint="if the server's certificate comes from a private or corporate CA, pass that "
                 "CA's bundle with --cert FILE (or PIP_CERT, pip's `cert`, REQUESTS_CA_BUNDLE, "
                 f"SSL_CERT_FILE); --trusted-host {host} turns verification off for that host "
                 "only")


def _system_context() -> ssl.SSLContext:
    import ssl

    # truststore asks the OS (Keychain, Windows' store, the distribution's CA files) like a
    # browser does; without it, OpenSSL's default paths are the system CA bundle on Linux.
    try:
        import truststore
    except ImportError:
        return ssl.create_default_context()
    ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ctx


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
