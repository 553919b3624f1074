"""A size limit on every request body, checked before anything reads it.

A body is refused with 413 (the one JSON error shape) when its ``Content-Length`` is over the
limit, before a byte of it is read; a body that comes without one (chunked) is cut off with
the same error as soon as reading it passes the limit. The limit is the setting
``ATLAS_MAX_JSON_BYTES`` unless the view names another setting in ``body_limit_setting``
(network uploads: ``ATLAS_MAX_UPLOAD_BYTES``; taxonomy imports: ``ATLAS_MAX_IMPORT_BYTES``).
"""

from django.conf import settings
from django.http import JsonResponse

from server.errors import RequestTooLarge, ValidationFailed, error_body

DEFAULT_LIMIT_SETTING = "ATLAS_MAX_JSON_BYTES"


def _too_large(limit):
    return RequestTooLarge(
        f"The request body is larger than this endpoint takes ({limit} bytes).",
        fields={"body": [f"At most {limit} bytes."]},
    )


class _BoundedStream:
    """A request body stream that raises RequestTooLarge once more than ``limit`` bytes
    were read from it."""

    def __init__(self, stream, limit):
        self._stream = stream
        self._limit = limit
        self._read = 0

    def _count(self, chunk):
        self._read += len(chunk)
        if self._read > self._limit:
            raise _too_large(self._limit)
        return chunk

    def read(self, size=-1):
        if size is None or size < 0:
            # Read no more than one byte past the limit: enough to know it was passed.
            size = self._limit - self._read + 1
        return self._count(self._stream.read(size))

    def readline(self, size=-1):
        if size is None or size < 0:
            size = self._limit - self._read + 1
        return self._count(self._stream.readline(size))

    def close(self):
        # Django closes the stream once it has read a whole body (request.body).
        self._stream.close()


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "view_class", None)
        limit = getattr(settings, getattr(view_class, "body_limit_setting", DEFAULT_LIMIT_SETTING))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return self._response(_too_large(limit))
        request._stream = _BoundedStream(request._stream, limit)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, RequestTooLarge):
            return self._response(exception)
        return None

    @staticmethod
    def _response(error):
        return JsonResponse(error_body(error.detail, error.code, error.fields), status=error.status)


class NulInUrlMiddleware:
    """A NUL character in an API URL names nothing (PostgreSQL cannot even compare one): in
    the query string it is a 400 naming the parameter, as the schema's patterns say; in the
    path, a 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            if "\x00" in request.path:
                return JsonResponse(error_body("Not found.", "not_found"), status=404)
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    error = ValidationFailed(
                        "Text may not contain NUL characters.",
                        code="null_character",
                        fields={name: ["Text may not contain NUL (\\u0000) characters."]},
                    )
                    return JsonResponse(
                        error_body(error.detail, error.code, error.fields), status=error.status
                    )
        return self.get_response(request)
