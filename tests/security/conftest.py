"""Attacks on husk from inside a container. Every overwrite is aimed at a decoy: a copy of the
husk binary (the `decoy` fixture runs that copy) or a file the test made, never a host file."""
import importlib.util
import os
import shutil
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
_INTEGRATION = os.path.join(_HERE, "..", "integration")
sys.path.insert(0, _INTEGRATION)
_spec = importlib.util.spec_from_file_location("husk_fixtures", os.path.join(_INTEGRATION, "conftest.py"))
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

HUSK = fixtures.HUSK
REPO = fixtures.REPO
base_config = fixtures.base_config
accept_fd = fixtures.accept_fd
Husk = fixtures.Husk
template_rootfs = fixtures.template_rootfs
husk = fixtures.husk


@pytest.fixture
def decoy(tmp_path, template_rootfs):
    """A Husk driving a private copy of the binary: an attack that overwrites the runtime
    changes this copy, which the test then compares with the original."""
    copy = tmp_path / "husk-decoy"
    shutil.copy2(HUSK, copy)
    h = Husk(tmp_path, template_rootfs, binary=str(copy))
    h.original = open(HUSK, "rb").read()
    yield h
    h.cleanup()


def binary_intact(h):
    with open(h.binary, "rb") as f:
        return f.read() == h.original
