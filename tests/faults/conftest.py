import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep  # noqa: E402

HUSK = os.path.abspath(os.environ.get("HUSK", os.path.join(sweep.REPO, "husk")))


@pytest.fixture(scope="module")
def sweeper():
    """A Sweep on a state root and bundles of its own, removed after the module."""
    tmp = tempfile.mkdtemp(prefix="husk-faults-")
    try:
        yield sweep.Sweep(HUSK, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
