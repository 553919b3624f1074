"""Server-rendered pages; the data they show comes from the same selectors as the API."""

from django.shortcuts import render

from workers.selectors.catalog import layers_of, networks_for_user


def landing(request):
    networks = []
    if request.user.is_authenticated:
        networks = [
            {"network": network, "layers": list(layers_of(network=network))}
            for network in networks_for_user(user=request.user)
        ]
    return render(request, "frontend/landing.html", {"networks": networks})
