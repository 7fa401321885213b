"""Fixtures of the reliability suite: the real services of `tests/integration/conftest_services.py`."""

from tests.integration.conftest_services import *  # noqa: F403
