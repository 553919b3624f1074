"""Pieces shared by the OpenAPI descriptions of the annotations endpoints."""

from drf_spectacular.utils import OpenApiResponse

from annotations.api.serializers import ApiErrorSerializer

ERROR = OpenApiResponse(ApiErrorSerializer, description='`{"detail", "code", "fields"}`')
