"""Validators whose pattern reads the same to the server and to the OpenAPI schema."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# A unit address as the API writes it: "mixed3b:379" (a layer name, a colon, an index of at
# most 18 digits: any longer is past what a database column holds).
UNIT_ADDRESS = r"^[^:\x00]+:[0-9]{1,18}$"


class FullMatchValidator(RegexValidator):
    """A pattern the whole value must match, as JSON Schema reads ``^…$``: Python's ``$`` also
    matches before a final newline, which ``RegexValidator``'s ``search`` lets through. Write
    ``[0-9]``, not ``\\d`` (Python's matches every script's digits). drf-spectacular puts the
    pattern in the schema as it does a ``RegexValidator``'s."""

    def __call__(self, value):
        if self.regex.fullmatch(str(value)) is None:
            raise ValidationError(self.message, code=self.code, params={"value": value})
