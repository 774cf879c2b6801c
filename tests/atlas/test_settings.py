"""Starting without the required secrets fails fast with a message that says what to set."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

START = "import django; django.setup()"


def _start(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ATLAS_", "SECRET_KEY", "DATABASE_"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", START],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "atlas.settings", "ATLAS_ENV_FILE": os.devnull, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ATLAS_ENCRYPTION_KEYS": "x"}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "s"}, "ATLAS_ENCRYPTION_KEYS is not set"),
        (
            {"SECRET_KEY": "s", "ATLAS_ENCRYPTION_KEYS": "not-a-fernet-key"},
            "entry 1 is not a valid Fernet key",
        ),
    ],
)
def test_production_refuses_to_start_without_its_secrets(env, message):
    result = _start(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_it_starts_with_them():
    from cryptography.fernet import Fernet

    result = _start(SECRET_KEY="s", ATLAS_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert result.returncode == 0, result.stderr
