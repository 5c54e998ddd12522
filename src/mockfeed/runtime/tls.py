"""Optional TLS (https and wss) from a certificate chain and key in PEM files."""

from __future__ import annotations

import ssl

import attrs


def _check_pair(instance: TlsFiles, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    """Load the pair once, so a bad file is reported at configuration time, not at the first client."""
    try:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(instance.cert, value)
    except (OSError, ssl.SSLError) as error:
        raise ValueError(f"cannot use TLS certificate {instance.cert!r}: {error}") from None


@attrs.frozen
class TlsFiles:
    """A PEM certificate chain and its key (``key`` None: the key is in the certificate file)."""

    cert: str
    key: str | None = attrs.field(default=None, validator=_check_pair)

    def server_context(self) -> ssl.SSLContext:
        """A server-side context for the WebSocket listener (TLS 1.2 or later)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert, self.key)
        return context
