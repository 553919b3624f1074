"""Settings come from the environment; production refuses to start insecurely."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

STRONG_KEY = "k3y-" + "x7Qp9-Lm2Zr8vT4wN6bY1cJ5hG0dF3sA" * 2


def manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "ATLAS_ENV", "DEBUG", "ALLOWED_HOSTS"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_embedded_default_needs_no_environment():
    result = manage("check")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "secret_key",
    ["", "short", "django-insecure-neuron-atlas-development-key-never-use-in-production"],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    result = manage("check", ATLAS_ENV="production", SECRET_KEY=secret_key)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_passes_the_deployment_checklist():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        ATLAS_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="atlas.example.org",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = manage("check", DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def _setting(name, **env):
    """The value of setting ``name`` in a fresh process with ``env`` added."""
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="atlas.example.org",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_production_refuses_webhooks_to_private_hosts_by_default(monkeypatch):
    monkeypatch.delenv("ATLAS_WEBHOOK_ALLOW_PRIVATE", raising=False)

    assert _setting("ATLAS_WEBHOOK_ALLOW_PRIVATE", ATLAS_ENV="production") == "False"


def test_development_allows_webhooks_to_private_hosts_by_default(monkeypatch):
    monkeypatch.delenv("ATLAS_WEBHOOK_ALLOW_PRIVATE", raising=False)

    assert _setting("ATLAS_WEBHOOK_ALLOW_PRIVATE", ATLAS_ENV="development") == "True"
