"""DESIGN: the web process never imports torch. A fresh interpreter starts the web application
(settings, WSGI handler, URL conf), imports the module of every view the URL conf routes to,
builds the OpenAPI schema the web serves, and imports the Celery tasks it enqueues jobs with;
torch must not be among its modules."""

import os
import subprocess
import sys

from django.conf import settings

WEB_PROCESS = """
import importlib
import sys

from django.core.wsgi import get_wsgi_application

get_wsgi_application()
from django.urls import URLResolver, get_resolver  # noqa: E402
from drf_spectacular.generators import SchemaGenerator  # noqa: E402

import server.urls  # noqa: E402, F401
import workers.tasks  # noqa: E402, F401


def views(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from views(pattern.url_patterns)
        else:
            yield pattern.callback


modules = {view.__module__ for view in views(get_resolver().url_patterns)}
for module in sorted(modules):
    importlib.import_module(module)
SchemaGenerator().get_schema(request=None, public=True)
{extra}
print(len(modules), sorted(name for name in sys.modules if name.split(".")[0] == "torch"))
"""


def _web_process(extra=""):
    """(number of view modules imported, torch modules loaded) in a fresh web process."""
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS.replace("{extra}", extra)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "server.settings"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    count, torch_modules = result.stdout.strip().splitlines()[-1].split(" ", 1)
    return int(count), torch_modules


def test_the_web_process_imports_no_torch():
    count, torch_modules = _web_process()

    assert count > 10
    assert torch_modules == "[]"


def test_the_check_sees_torch_when_a_module_imports_it():
    _count, torch_modules = _web_process(extra="import workers.engine.weights")

    assert "'torch'" in torch_modules
