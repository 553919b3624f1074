"""JSON bodies are read with the types the OpenAPI schema states.

DRF coerces on input: a CharField takes 3 or 2.5 as "3" or "2.5", a BooleanField takes
"true", "no" or 1, an IntegerField takes "12". Query strings and form fields are text, so that
leniency is needed there; in a JSON body it makes the server accept what its own schema
refuses (a string field sent a number). ``json_types_strict`` makes these fields take only
their JSON type when the serializer reads JSON (not a QueryDict); form and query input keep
DRF's parsing. Installed once, from ``ServerConfig.ready``.
"""

from django.core.files.base import ContentFile
from rest_framework import fields, relations, serializers
from rest_framework.utils import html


def _reads_json(field):
    root = field.root
    return not html.is_html_input(getattr(root, "initial_data", None) or {})


def _strict(original, accepts):
    def to_internal_value(self, data):
        if _reads_json(self) and not accepts(data):
            self.fail("invalid", input=data)
        return original(self, data)

    to_internal_value.__wrapped__ = original
    return to_internal_value


def json_types_strict():
    if hasattr(fields.CharField.to_internal_value, "__wrapped__"):
        return  # installed already
    fields.CharField.to_internal_value = _strict(
        fields.CharField.to_internal_value, lambda data: isinstance(data, str)
    )
    fields.BooleanField.to_internal_value = _strict(
        fields.BooleanField.to_internal_value, lambda data: isinstance(data, bool)
    )
    fields.IntegerField.to_internal_value = _strict(
        fields.IntegerField.to_internal_value,
        lambda data: isinstance(data, int | float) and not isinstance(data, bool),
    )
    # A related field looks its value up in the database, which cannot hold a NUL; CharFields
    # refuse NUL with their own validator, these had none.
    relations.SlugRelatedField.to_internal_value = _without_nul(
        relations.SlugRelatedField.to_internal_value
    )


def _without_nul(original):
    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return original(self, data)

    return to_internal_value


class UploadField(serializers.FileField):
    """A multipart file. A part sent without a filename reaches Django as text rather than as
    a file; its bytes are the file all the same (named after the field), so what a client
    means as an upload is read as one whichever way its library framed the part."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = ContentFile(data.encode("utf-8", "surrogateescape"), name=self.field_name)
        return super().to_internal_value(data)
