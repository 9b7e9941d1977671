import os
import tempfile

# Generated gradients of the test session go to a private cache folder, so that
# the tests never read or write the user's cache. Set before srcgrad is used.
os.environ.setdefault("SRCGRAD_CACHE_DIR", tempfile.mkdtemp(prefix="srcgrad-test-cache-"))
