"""HTTP with the standard library: JSON in and out, the API token, errors as exceptions."""

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from atlas_client.errors import error_from_response

API_PREFIX = "/api/v1/"
USER_AGENT = "atlas-client/0.1"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict
    body: object

    @property
    def etag(self):
        return self.headers.get("etag")


class Transport:
    def __init__(self, base_url, token=None, timeout=30.0):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith(API_PREFIX.rstrip("/")):
            self.base_url = self.base_url[: -len(API_PREFIX.rstrip("/"))]
        self.token = token
        self.timeout = timeout

    def url(self, path, params=None):
        url = self.base_url + API_PREFIX + path.lstrip("/")
        query = {key: value for key, value in (params or {}).items() if value is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def request(self, method, path, *, params=None, payload=None, headers=None):
        """Send one request; a 4xx or 5xx answer raises AtlasError (StaleVersion for 412)."""
        # The scheme is http or https: __init__ refuses any other base_url.
        request = urllib.request.Request(self.url(path, params), method=method)  # noqa: S310
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if payload is not None:
            request.add_header("Content-Type", "application/json")
            request.data = json.dumps(payload).encode()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return Response(answer.status, _headers(answer), _body(answer))
        except urllib.error.HTTPError as error:
            with error:
                body = _body(error)
            raise error_from_response(error.code, error.reason, body) from None

    def download(self, path, out, *, params=None, chunk_size=1 << 16):
        """GET ``path`` and write the answer's bytes to ``out`` (a binary file) as they come;
        returns the answer's headers. An error answer raises AtlasError, as ``request`` does."""
        request = urllib.request.Request(self.url(path, params), method="GET")  # noqa: S310
        request.add_header("User-Agent", USER_AGENT)
        if self.token:
            request.add_header("Authorization", f"Token {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                while chunk := answer.read(chunk_size):
                    out.write(chunk)
                return _headers(answer)
        except urllib.error.HTTPError as error:
            with error:
                body = _body(error)
            raise error_from_response(error.code, error.reason, body) from None


def _headers(answer):
    return {name.lower(): value for name, value in answer.headers.items()}


def _body(answer):
    raw = answer.read()
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "json" in (answer.headers.get("Content-Type") or ""):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
