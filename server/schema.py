"""Pieces of the OpenAPI description shared by every app's endpoints."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape (see ``server/errors.py``)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERROR = OpenApiResponse(ApiErrorSerializer, description='`{"detail", "code", "fields"}`')
