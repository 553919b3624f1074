"""Request body parsers that refuse what the rest of the service cannot store or walk.

Every body the API takes passes through here first: a JSON document nested deeper than
``MAX_JSON_DEPTH`` (Python's parser would otherwise overflow the stack on a few thousand
brackets) is refused with a 400 in the one error shape, naming where; a form field holding a
NUL character (PostgreSQL's text type cannot store one) too. In JSON, NUL in a string is left
to the field that reads it (every CharField refuses it, naming the field; a string under a key
no field reads is ignored like the key), and a key holding one is dropped.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The module, not its names: DRF reads the parser settings while server.errors imports DRF.
from server import errors

# Deeper than any document the API describes (an import file nests five levels), far below
# the interpreter's recursion limit for the parser and for everything that walks the result.
MAX_JSON_DEPTH = 64
NUL = "\x00"


def _path(parts):
    return ".".join(str(part) for part in parts) or "non_field_errors"


def check_text_tree(value, *, max_depth=MAX_JSON_DEPTH, refuse_nul=True):
    """Raise ValidationFailed if ``value`` (a parsed JSON document) nests deeper than
    ``max_depth`` or holds a NUL character in any string; keys holding one are dropped."""
    pending = [(value, (), 1)]
    while pending:
        item, where, depth = pending.pop()
        if isinstance(item, str):
            if refuse_nul and NUL in item:
                raise _nul_error(_path(where))
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise errors.ValidationFailed(
                    f"The document nests deeper than {max_depth} levels.",
                    code="too_deep",
                    fields={_path(where): [f"Nested deeper than {max_depth} levels."]},
                )
            if isinstance(item, dict):
                # A key holding a NUL names no field of this API, and unknown keys are ignored:
                # it goes, so that it never reaches a JSON column (PostgreSQL refuses it).
                for key in [key for key in item if NUL in key]:
                    del item[key]
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, entry in entries:
                pending.append((entry, (*where, key), depth + 1))


def check_form_fields(fields):
    """Raise ValidationFailed if a form field's name or any of its values holds a NUL."""
    for name, values in fields.lists():
        if NUL in name or any(NUL in value for value in values):
            raise _nul_error(name)


def _nul_error(field):
    return errors.ValidationFailed(
        "Text may not contain NUL characters.",
        code="null_character",
        fields={field: ["Text may not contain NUL (\\u0000) characters."]},
    )


class AtlasJSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded in depth and refusing NUL characters."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - the document nests deeper than {MAX_JSON_DEPTH} levels."
            ) from None
        # A string's NUL is left to the field that reads it (see above).
        check_text_tree(data, refuse_nul=False)
        return data


class AtlasFormParser(parsers.FormParser):
    """DRF's form parser, refusing NUL characters in field names and values."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_form_fields(data)
        return data


class AtlasMultiPartParser(parsers.MultiPartParser):
    """DRF's multipart parser. A part may be a file sent without a filename (binary, NULs
    and all), so NUL characters are left to the fields: every CharField refuses them, and
    file fields read the bytes (server/fields.py UploadField)."""
