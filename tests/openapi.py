"""The served OpenAPI schema, read by tests that check an operation says what the server does."""

import functools

from drf_spectacular.generators import SchemaGenerator


@functools.cache
def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


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
