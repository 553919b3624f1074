"""Signing webhook deliveries: HMAC-SHA256 over ``<timestamp>.<body>`` with the hook's secret.

The receiver recomputes it from the ``X-Atlas-Timestamp`` header and the raw body, compares it
with ``X-Atlas-Signature`` (``sha256=<hex>``) in constant time, and refuses old timestamps.
"""

import hashlib
import hmac
import secrets

SCHEME = "sha256"


def secret_new():
    """A fresh webhook secret: 32 random bytes, URL-safe text."""
    return f"whsec_{secrets.token_urlsafe(32)}"


def signature(*, secret, timestamp, body):
    """The ``X-Atlas-Signature`` value for ``body`` (text) sent at ``timestamp`` (Unix
    seconds)."""
    message = f"{timestamp}.{body}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def signature_matches(*, secret, timestamp, body, header):
    """Whether ``header`` is the signature of ``body`` at ``timestamp``, compared in constant
    time."""
    return hmac.compare_digest(signature(secret=secret, timestamp=timestamp, body=body), header)
