"""Typed domain errors and the one handler that turns every API error into one JSON shape.

Services raise the errors below; views never build error responses themselves. Every error
response reads ``{"detail": str, "code": str, "fields": {field: [messages]}}``.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, detail, *, code=None, fields=None):
        super().__init__(detail)
        self.detail = str(detail)
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 400
    code = "invalid"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class VersionConflict(DomainError):
    status = 412
    code = "version_conflict"


class PreconditionRequired(DomainError):
    status = 428
    code = "precondition_required"


def error_body(detail, code, fields=None):
    return {"detail": detail, "code": code, "fields": fields or {}}


def _flatten_fields(data):
    """DRF validation details as ``{field: [message, ...]}`` with dotted paths for nesting."""
    fields = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for position, item in enumerate(value):
                walk(f"{prefix}.{position}" if prefix else str(position), item)
        else:
            messages = value if isinstance(value, list) else [value]
            fields.setdefault(prefix or "non_field_errors", []).extend(str(m) for m in messages)

    walk("", data)
    return fields


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.detail, exc.code, exc.fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        response.data = error_body("The request has invalid fields.", "invalid", fields)
    else:
        detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, drf_exceptions.APIException) else "error"
        response.data = error_body(str(detail), codes if isinstance(codes, str) else "error")
    return response
