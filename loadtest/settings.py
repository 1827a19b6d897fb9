"""The load test's settings: harvester.settings unchanged, except that static files are collected into the
run's work dir (LOAD_STATIC_ROOT) instead of the checkout, since DEBUG off serves them from a manifest."""

import os

from harvester.settings import *  # noqa: F403

STATIC_ROOT = os.environ["LOAD_STATIC_ROOT"]
