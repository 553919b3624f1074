"""The code version recorded on every artifact, so an image can be traced to what made it."""

import os
import subprocess
from functools import cache

from django.conf import settings

ENGINE_VERSION = "0.3"


@cache
def code_version():
    """``ATLAS_CODE_VERSION`` if set (release builds), else the engine version and git commit."""
    explicit = os.environ.get("ATLAS_CODE_VERSION")
    if explicit:
        return explicit[:60]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"engine-{ENGINE_VERSION}+{commit or 'unknown'}"
