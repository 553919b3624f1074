"""API tokens: django-rest-knox's hashed, expiring tokens, with a name and a last use."""

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """One of a user's API tokens. Only the SHA-512 digest of the secret is stored (knox); the
    first characters (``token_key``) find the row, the secret is shown once at creation."""

    # An id to list and revoke by; knox's own primary key is the digest, which must not leak.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=128, unique=True)
    name = models.CharField(max_length=100)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name} ({self.user})"
