"""Typed domain errors and the one handler that turns every API error into one JSON shape.

Services raise the errors below; views never build error responses themselves. Every error
response reads ``{"detail": str, "code": str, "fields": {field: [messages]}}``.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, JsonResponse
from django.views import defaults
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


class Unprocessable(ValidationFailed):
    """The request has the shape the API's schema describes, but this deployment cannot act
    on it (a job kind that does not apply to that layer): 422, where 400 is kept for requests
    that break the schema."""

    status = 422
    code = "unprocessable"


class UnknownReference(Unprocessable):
    """The request names something that does not exist here, or that the actor may not see
    (both answer alike)."""

    code = "unknown_reference"


class AuthenticationFailed(DomainError):
    """The credentials given do not sign anyone in (a wrong password, an unknown user)."""

    status = 401
    code = "authentication_failed"


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


class RequestTooLarge(DomainError):
    status = 413
    code = "request_too_large"


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


def _request_error(exc):
    """Django's refusals of a request body as domain errors, or None for any other error."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge("The request body is too large.")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return ValidationFailed("The request sends too many fields.", code="too_many_fields")
    return None


def _leaf_codes(codes):
    if isinstance(codes, dict):
        return set().union(*(_leaf_codes(value) for value in codes.values()))
    if isinstance(codes, list):
        return set().union(*(_leaf_codes(value) for value in codes))
    return {codes}


def api_exception_handler(exc, context):
    exc = _request_error(exc) or exc
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
        if _leaf_codes(exc.get_codes()) == {"does_not_exist"}:
            # A related field naming no object (DRF's SlugRelatedField): a reference, as above.
            response.status_code = UnknownReference.status
            response.data = error_body(
                "The request names something that does not exist here.",
                UnknownReference.code,
                fields,
            )
        else:
            response.data = error_body("The request has invalid fields.", "invalid", fields)
    else:
        detail = exc.detail if isinstance(exc, drf_exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, drf_exceptions.APIException) else "error"
        response.data = error_body(str(detail), codes if isinstance(codes, str) else "error")
    return response


# Django's own error pages (``handler400`` and friends in server/urls.py): under /api/ they
# answer in the JSON error shape too, for what fails before or outside a DRF view (an
# unmatched URL, a body Django refused while reading it); pages keep Django's HTML.


def _is_api(request):
    return request.path.startswith("/api/")


def _json_error(error):
    return JsonResponse(error_body(error.detail, error.code, error.fields), status=error.status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    error = _request_error(exception)
    if _is_api(request):
        return _json_error(error or ValidationFailed("Bad request.", code="bad_request"))
    return defaults.bad_request(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if _is_api(request):
        return _json_error(NotFound("Not found."))
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if _is_api(request):
        return JsonResponse(error_body("A server error occurred.", "server_error"), status=500)
    return defaults.server_error(request, template_name)
