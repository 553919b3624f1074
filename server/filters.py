"""Query filters that refuse what their schema refuses: a value of the wrong type is a 400
naming the parameter, never silently ignored or widened (django-filter's NumberFilter takes
0.5 for an integer, its BooleanFilter reads "null" as no filter)."""

import datetime
import re

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


# RFC 3339's date-time, the schema's "date-time" format: an offset is required (a moment
# without one is ambiguous), "T" and "Z" in either case.
_DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,
)


class _StrictDateTimeField(forms.Field):
    default_error_messages = {"invalid": "A date-time with its offset, like 2026-03-01T13:00:00Z."}

    def to_python(self, value):
        if value in (None, ""):
            return None  # an empty parameter is one not given, as for every filter
        match = _DATE_TIME.fullmatch(str(value))
        if match is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if match["date"].startswith("0000"):
            return datetime.datetime.min.replace(tzinfo=datetime.UTC)
        time, fraction = match["time"], (match["fraction"] or "")[:7]  # microseconds at most
        if time.endswith(":59:60"):  # a leap second, which Python's datetime cannot hold
            time, fraction = f"{time[:-2]}59", ".999999"
        offset = "+00:00" if match["offset"] in "Zz" else match["offset"]
        try:
            moment = datetime.datetime.fromisoformat(f"{match['date']}T{time}{fraction}{offset}")
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        try:
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            # In UTC the moment falls before year 1 or after 9999: it bounds nothing.
            edge = datetime.datetime.min if moment.year == 1 else datetime.datetime.max
            return edge.replace(tzinfo=datetime.UTC)


class StrictDateTimeFilter(django_filters.Filter):
    """An RFC 3339 date-time (the schema's format); anything else but blank is a 400."""

    field_class = _StrictDateTimeField
