"""Query filters that refuse what their schema refuses: a value of the wrong type is a 400
naming the parameter, never silently ignored or widened (django-filter's NumberFilter takes
0.5 for an integer, its BooleanFilter reads "null" as no filter)."""

import django_filters
from django import forms


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class _StrictBooleanField(forms.Field):
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        parsed = self._VALUES.get(str(value).lower())
        if parsed is None:
            raise forms.ValidationError("Either true or false.", code="invalid")
        return parsed


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = _StrictBooleanField
