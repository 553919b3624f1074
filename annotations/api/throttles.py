"""The project's throttles. Each counts the client by ``get_ident``, which trusts
X-Forwarded-For only as far as ``REST_FRAMEWORK["NUM_PROXIES"]`` (ATLAS_NUM_PROXIES) says."""

import hashlib
import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class CredentialsRateThrottle(SimpleRateThrottle):
    """Counts attempts to trade credentials for a token per client IP, whoever they claim to be."""

    scope = "credentials"

    def get_rate(self):
        # Read when asked rather than at import, so a changed REST_FRAMEWORK setting applies.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedSignInThrottle(CredentialsRateThrottle):
    """Counts failed sign-ins per client IP and per username, at the credentials rate; only
    failures spend the budget, so a rotating address or a rotating username both run out."""

    def _cache_keys(self, request, username):
        # The username is hashed: it is client input, and cache keys must stay short and plain.
        user_ident = hashlib.sha256(username.casefold().encode()).hexdigest()
        return [
            self.cache_format % {"scope": "sign-in-address", "ident": self.get_ident(request)},
            self.cache_format % {"scope": "sign-in-user", "ident": user_ident},
        ]

    def _recent(self, key, now):
        return [moment for moment in self.cache.get(key, []) if moment > now - self.duration]

    def retry_after(self, request, *, username):
        """Whole seconds until another attempt is allowed, or None while under the rate."""
        now = self.timer()
        waits = [
            self.duration - (now - history[-1])
            for history in (self._recent(key, now) for key in self._cache_keys(request, username))
            if len(history) >= self.num_requests
        ]
        return math.ceil(max(waits)) if waits else None

    def record_failure(self, request, *, username):
        now = self.timer()
        for key in self._cache_keys(request, username):
            self.cache.set(key, [now, *self._recent(key, now)], self.duration)
