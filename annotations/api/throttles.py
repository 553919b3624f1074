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
