"""What ``OPTIONS`` answers on every API endpoint."""

from rest_framework.metadata import SimpleMetadata


class AtlasMetadata(SimpleMetadata):
    """Name, description and media types, without DRF's per-method field listing: the views
    validate with input serializers of their own rather than ``serializer_class`` (which the
    listing would ask for), and the OpenAPI schema at /api/schema/ documents every field."""

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
