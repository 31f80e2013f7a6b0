"""Settings for the test suite: the real settings with a throwaway key."""

import os

os.environ.setdefault("TONGBAN_SECRET_KEY", "test-only-key-not-secret-0123456789abcdefghijklmnop")

from tongban.settings import *  # noqa: E402,F403  (the test settings are the real ones)

# Tests create many users; the real hasher's cost is for attackers, not for CI.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
