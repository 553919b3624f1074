"""A circuit's diagram as standalone SVG, for the circuit page and for download."""

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema

from annotations.api.views.base import ProjectView
from annotations.api.views.exports import StreamNegotiation
from annotations.selectors.circuit_diagram import circuit_diagram_get
from server.schema import ERROR


class CircuitDiagramView(ProjectView):
    content_negotiation_class = StreamNegotiation

    @extend_schema(
        operation_id="projects_circuits_diagram",
        responses={
            (200, "image/svg+xml"): OpenApiResponse(
                OpenApiTypes.STR,
                description="A standalone SVG document: layers in rows (inputs at the top), "
                "each unit with its feature visualization embedded as a PNG data URI, edges "
                "red (positive) or blue (negative) as wide as their magnitude; each edge "
                "carries data-source, data-target, data-weight, data-kind and its kernel.",
            ),
            **{(code, "application/json"): ERROR for code in (401, 404)},
        },
        description="The circuit drawn like the Circuits articles' figures. Any member.",
    )
    def get(self, request, slug, circuit_id):
        _, svg = circuit_diagram_get(
            project=self.project,
            circuit_id=circuit_id,
            # Absolute, so that the links still work in a downloaded file.
            unit_href=lambda network, address: request.build_absolute_uri(
                reverse("frontend:unit", args=[slug, network, address])
            ),
        )
        return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
