"""Optimistic concurrency for the API: versions out as ETags, back in as If-Match."""

import re

from server.errors import PreconditionRequired, ValidationFailed, VersionConflict

_ETAG = re.compile(r'^(W/)?"(\d+)"$')


def etag(version):
    return f'"{version}"'


def expected_version(request):
    """The version the client last saw, from ``If-Match``: 428 when missing, 400 when not a
    version this API handed out, 412 for a weak ETag (If-Match compares strongly, RFC 9110
    13.1.1, so a weak ETag never matches)."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(
            "This change needs an If-Match header with the ETag you last read.",
            fields={"If-Match": ["Required."]},
        )
    match = _ETAG.match(header.strip())
    if match is None:
        raise ValidationFailed(
            'If-Match must be an ETag this API sent, like "3".',
            fields={"If-Match": ["Not a version ETag."]},
        )
    weak, version = match.groups()
    if weak:
        raise VersionConflict(
            "If-Match compares ETags strongly, so a weak ETag never matches.",
            fields={"If-Match": ['A weak ETag never matches; send the ETag as it came, like "1".']},
        )
    return int(version)


def stale(model_name, current_version):
    """The error for a write that lost the race: 412 with the version to re-read."""
    return VersionConflict(
        f"The {model_name} changed since you read it (now version {current_version}); "
        "re-read it and apply your change again.",
        fields={"current_version": [str(current_version)]},
    )


def with_etag(response, version):
    response["ETag"] = etag(version)
    return response
