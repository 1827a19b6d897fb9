"""Configuration: a missing or invalid setting in production stops startup with a clear message."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "x" * 50


def start(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HARVESTER_TESTING", "EMAIL_BACKEND",
        "EMAIL_HOST", "EMAIL_PORT",
    }}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "harvester.settings"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
         "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"SECRET_KEY": GOOD_SECRET}, "ALLOWED_HOSTS is not set"),
        ({"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "h", "DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "h", "REDIS_URL": "http://x"}, "REDIS_URL='http://x' must be"),
        ({"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "h", "DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL"),
        ({"SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "h", "EMAIL_PORT": "abc"}, "EMAIL_PORT='abc' is not a whole"),
    ],
)
def test_it_refuses_to_start_with_a_bad_production_setting(env, message):
    result = start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr, result.stderr[-800:]


def test_the_embedded_default_is_sqlite_with_in_process_tasks():
    result = start({"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_production_uses_postgres_and_real_workers_when_configured():
    result = start({
        "SECRET_KEY": GOOD_SECRET, "ALLOWED_HOSTS": "harvester.example.com",
        "DATABASE_URL": "postgres://u:p@db.example.com:5432/harvester", "REDIS_URL": "redis://cache:6379/0",
    })
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False"]
