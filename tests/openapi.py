"""The served OpenAPI schema, and the check that every API response a test receives keeps to it.

The schema is the one ``manage.py spectacular`` writes, generated once per test session. Every
response to ``/api/v1/…`` passes through ``ResponseSchemaMiddleware`` (installed for the whole
session by ``tests/conftest.py``), whichever client made the request: the test client, DRF's
APIClient, or real HTTP against ``live_server``. A response whose status the operation does not
document, whose content type it does not list, or whose JSON body breaks the schema for that
status is recorded; the test that made it then fails with the operation, the status and the
JSON path of each violation. A test that deliberately calls outside the schema says so with
``@pytest.mark.outside_schema("why")``.
"""

import functools
import json
import re
import threading

import schemathesis
from django.conf import settings
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.transport import Response

API_PREFIX = "/api/v1/"
# The router answers these for a URL or method no operation has; their bodies are the error
# shape, but no operation lists them.
UNROUTED_STATUSES = {404, 405}


@functools.cache
def _schema():
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    # Through the JSON renderer, as the schema file is written: lazy strings become text.
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


@functools.cache
def _checker():
    return schemathesis.openapi.from_dict(_schema())


def warm():
    """Generate the schema now, from the views as the project defines them."""
    _checker()


def operation(method, path):
    """The operation ``method`` (lower case) on ``path`` as the schema lists it."""
    return _schema()["paths"][path][method]


def query_parameter(method, path, name):
    """The schema of the query parameter ``name`` of an operation."""
    (parameter,) = [
        parameter
        for parameter in operation(method, path).get("parameters", [])
        if parameter["in"] == "query" and parameter["name"] == name
    ]
    return parameter


def component(name):
    """A component schema by name, references left as they are."""
    return _schema()["components"]["schemas"][name]


def _media_type(content_type):
    return content_type.split(";", 1)[0].strip().lower()


def _lists_media_type(documented, media_type):
    for listed in documented:
        kind, _, subtype = listed.partition("/")
        if listed in (media_type, "*/*") or (subtype == "*" and media_type.startswith(kind + "/")):
            return True
    return False


def _is_json(media_type):
    return media_type == "application/json" or media_type.endswith("+json")


def _json_path(parts):
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


_SCHEMA_LOCATION = re.compile(r"Schema at (\S+):")


def _describe(failure):
    """One line for a schemathesis failure: where in the body, what is wrong, which schema."""
    instance_path = getattr(failure, "instance_path", None)
    if instance_path is None:
        return failure.title + ": " + failure.message.strip().splitlines()[0]
    location = _SCHEMA_LOCATION.search(failure.message)
    where = f" (schema {location[1]})" if location else ""
    return f"{_json_path(instance_path)}: {failure.validation_message}{where}"


def response_violations(method, path, status, content_type, body):
    """What is wrong with a response to ``method path`` by the schema, as lines of text: the
    status the operation does not document, a content type it does not list, each place the
    JSON body breaks the schema of that status. ``body`` is None when it was not read (a
    streamed file): then the status and content type are checked."""
    method = method.upper()
    if method == "HEAD":
        # A HEAD is answered as the GET would be, without the body.
        method, body = "GET", None
    checker = _checker()
    found = checker.find_operation_by_path(method, path)
    if found is None:
        if status in UNROUTED_STATUSES:
            return []
        return [f"{method} {path} answered {status}: no operation of the schema matches"]
    label = f"{method} {found.path}"
    responses = _schema()["paths"][found.path][method.lower()]["responses"]
    definition = found.responses.find_by_status_code(status)
    if definition is None:
        return [f"{label} answered {status}, which it does not document ({', '.join(responses)})"]
    documented = list(responses[definition.status_code].get("content", {}))
    if body == b"":
        return []
    media_type = _media_type(content_type or "")
    if not documented:
        return [f"{label} answered {status} with a {media_type} body; the schema says no body"]
    if not _lists_media_type(documented, media_type):
        return [
            f"{label} answered {status} as {media_type or 'no content type'}; "
            f"the schema lists {', '.join(documented)}"
        ]
    if body is None or not _is_json(media_type):
        return []
    response = Response(
        status_code=status,
        headers={"content-type": [content_type]},
        content=body,
        request=None,
        elapsed=0,
        verify=True,
    )
    try:
        checker.validate_response(found, response)
    except FailureGroup as group:
        failures = group.exceptions
    except Failure as failure:
        failures = [failure]
    else:
        return []
    return [f"{label} answered {status}, breaking its schema at {_describe(f)}" for f in failures]


class ResponseLog:
    """The violations seen since the current test started (requests may come from the live
    server's thread)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._violations = []

    def start(self):
        with self._lock:
            self._violations = []

    def add(self, lines):
        with self._lock:
            self._violations.extend(lines)

    def violations(self):
        with self._lock:
            return list(self._violations)


response_log = ResponseLog()


class ResponseSchemaMiddleware:
    """Checks each response to an API URL against the schema; see the module's docstring. The
    response itself goes back unchanged."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX):
            body = None if response.streaming else response.content
            response_log.add(
                response_violations(
                    request.method,
                    request.path,
                    response.status_code,
                    response.get("Content-Type"),
                    body,
                )
            )
        return response


MIDDLEWARE = "tests.openapi.ResponseSchemaMiddleware"


def checked_middleware():
    """The project's middleware with the schema check outermost, so that it sees the response
    the client gets."""
    return [MIDDLEWARE, *settings.MIDDLEWARE]
