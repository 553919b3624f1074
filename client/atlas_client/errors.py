"""The errors the client raises, parsed from the API's one error shape
``{"detail": str, "code": str, "fields": {field: [messages]}}``."""


class AtlasError(Exception):
    """An error answer from the API: its HTTP status, code, message and per-field messages."""

    def __init__(self, status, code, detail, fields=None):
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields or {}


class StaleVersion(AtlasError):
    """412: the object changed since you read it; ``current_version`` is its version now."""

    def __init__(self, status, code, detail, fields=None):
        super().__init__(status, code, detail, fields)
        versions = self.fields.get("current_version") or [None]
        self.current_version = int(versions[0]) if versions[0] is not None else None


def error_from_response(status, reason, body):
    """The exception for an error answer; ``body`` is its parsed JSON, or text when it was none."""
    error_class = StaleVersion if status == 412 else AtlasError
    if isinstance(body, dict) and "detail" in body:
        return error_class(status, body.get("code", "error"), body["detail"], body.get("fields"))
    # Not the API's shape: a proxy's error page, a server crash.
    detail = body.strip()[:500] if isinstance(body, str) and body.strip() else reason
    return error_class(status, "http_error", detail)
