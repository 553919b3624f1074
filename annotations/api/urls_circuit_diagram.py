"""URL route of the circuit diagram, included by annotations/api/urls.py."""

from django.urls import path

from annotations.api.views.circuit_diagram import CircuitDiagramView

urlpatterns = [
    path(
        "projects/<slug:slug>/circuits/<int:circuit_id>/diagram.svg",
        CircuitDiagramView.as_view(),
        name="circuit-diagram",
    ),
]
