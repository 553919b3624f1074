"""Server-rendered pages; the data they show comes from the same selectors as the API."""

from django.contrib.auth.views import LoginView
from django.shortcuts import render

from annotations.api.throttles import CredentialsRateThrottle
from workers.selectors.catalog import layers_of, networks_for_user


def landing(request):
    networks = []
    if request.user.is_authenticated:
        networks = [
            {"network": network, "layers": list(layers_of(network=network))}
            for network in networks_for_user(user=request.user)
        ]
    return render(request, "frontend/landing.html", {"networks": networks})


class ThrottledLoginView(LoginView):
    """The sign-in page, sharing the per-address attempt budget of the token endpoint."""

    template_name = "frontend/login.html"

    def post(self, request, *args, **kwargs):
        throttle = CredentialsRateThrottle()
        if not throttle.allow_request(request, self):
            context = {"throttled_for": int(throttle.wait() or 0) + 1, "form": self.get_form()}
            return render(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)
