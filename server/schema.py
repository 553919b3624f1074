"""Pieces of the OpenAPI description shared by every app's endpoints."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape (see ``server/errors.py``)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


ERROR = OpenApiResponse(ApiErrorSerializer, description='`{"detail", "code", "fields"}`')

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input: a parameter or a field of the body (`fields` names which).",
    "401": "Authentication failed: an invalid, expired or revoked token.",
    "403": "Signed in but not allowed (role, CSRF for session sign-in).",
    "404": "Not found, or not visible to you (both answer alike); for lists, a page past the end.",
    "409": "Conflicts with the current state (a duplicate name, an invalid transition).",
    "412": "The If-Match version is stale: someone changed it since you read it.",
    "413": "The request body is too large.",
    "415": "The body's Content-Type is not one this operation accepts.",
    "422": "The request fits this schema but names something that does not exist here (or "
    "that you may not see), or asks for what cannot apply (`fields` says which).",
    "428": "If-Match is required for this change.",
    "429": "Too many attempts; retry after the time in Retry-After.",
}
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_WRITE_METHODS = _BODY_METHODS | {"DELETE"}


class AtlasAutoSchema(AutoSchema):
    """drf-spectacular's schema plus every error status an operation can answer, each in the
    one error shape: which ones follow from what the operation takes (path, query, body,
    If-Match), whether it writes, and whether it is throttled or anonymous."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                response = self._get_response_for_code(ApiErrorSerializer, code)
                response["description"] = _ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return operation

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        extra = getattr(serializer, "request_schema_extra", None)
        if direction == "request" and extra:
            # What a serializer's validate() requires of the whole body (at least one field,
            # one of two fields), stated where the schema can say it; merged in after the enum
            # postprocessing (no_nul_in_request_text), which would otherwise lift its enums
            # into shared components.
            schema["x-request-extra"] = extra
        return schema

    def _error_codes(self, operation):
        parameters = operation.get("parameters", [])
        where = {parameter["in"] for parameter in parameters}
        headers = {
            parameter["name"].lower() for parameter in parameters if parameter["in"] == "header"
        }
        codes = ["401"]  # an invalid token is refused before any permission check
        if not self._is_anonymous():
            codes.append("403")
        if "path" in where or "query" in where:
            codes.append("404")
        if "query" in where or "requestBody" in operation:
            codes += ["400", "422"]
        if self.method in _BODY_METHODS:
            codes += ["400", "413", "415"]
        if self.method in _WRITE_METHODS:
            codes += ["403", "404", "409"]
        if "if-match" in headers:
            codes += ["412", "428"]
        if self.view.get_throttles():
            codes.append("429")
        return sorted(set(codes))

    def _is_anonymous(self):
        return all(isinstance(permission, AllowAny) for permission in self.view.get_permissions())


def if_match_parameter(thing, note=""):
    """The If-Match header of a conditional change to ``thing``: required, and written as
    this API writes its ETags (a weak or malformed tag is refused; see server/concurrency.py)."""
    return OpenApiParameter(
        "If-Match",
        location=OpenApiParameter.HEADER,
        required=True,
        pattern=r'^"[0-9]{1,18}"$',
        description=f'The ETag of the {thing} as you last read it, like `"3"`{note}.',
    )


NO_NUL = r"^[^\x00]*$"
# Text that must not be blank: DRF trims whitespace before its blank check, so it needs one
# character that is neither whitespace nor NUL.
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
_TEXT_FORMATS = {None, "email", "slug"}


def _forbid_nul(schema, components, seen):
    """Give every free text of ``schema`` (followed through references) the NUL-free pattern
    the parsers enforce (server/parsers.py)."""
    if not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if reference:
        name = reference.rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _forbid_nul(components.get(name), components, seen)
        return
    if (
        schema.get("type") == "string"
        and "pattern" not in schema
        and "enum" not in schema
        and schema.get("format") in _TEXT_FORMATS
    ):
        schema["pattern"] = NOT_BLANK if schema.get("minLength", 0) >= 1 else NO_NUL
    for key in ("properties",):
        for child in schema.get(key, {}).values():
            _forbid_nul(child, components, seen)
    for key in ("items", "additionalProperties"):
        _forbid_nul(schema.get(key), components, seen)
    for key in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(key, []):
            _forbid_nul(child, components, seen)


def _empty_means_not_given(parameter):
    """``?q=`` is read as no ``q`` at all (django-filter and DRF's query serializers skip an
    empty value): the schema says an empty value is allowed rather than refused."""
    schema = parameter.get("schema", {})
    if parameter.get("required"):
        # A required parameter must have a value: the empty string is not one.
        if schema.get("type") == "string" and "enum" not in schema:
            schema.setdefault("minLength", 1)
        return
    parameter["allowEmptyValue"] = True
    if schema.get("type") != "string":
        return
    schema.pop("minLength", None)
    pattern = schema.get("pattern")
    if pattern and pattern.startswith("^") and pattern.endswith("$"):
        schema["pattern"] = f"^(?:{pattern[1:-1]})?$"


def no_nul_in_request_text(result, generator, request, public):
    """drf-spectacular postprocessing: request text (bodies and query parameters) never holds
    a NUL character, as the parsers and Django's fields refuse it; an empty query parameter is
    one not given. The schema says both."""
    components = result.get("components", {}).get("schemas", {})
    for component in components.values():
        component.update(component.pop("x-request-extra", {}))
    seen = set()
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query":
                    _empty_means_not_given(parameter)
                    _forbid_nul(parameter.get("schema"), components, seen)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _forbid_nul(media.get("schema"), components, seen)
    return result
