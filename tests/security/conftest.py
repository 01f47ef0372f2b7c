"""Attacks on husk from inside a container. Every overwrite is aimed at a decoy: a copy of the
husk binary (the `decoy` fixture runs that copy) or a file the test made, never a host file."""
import importlib.util
import os
import shutil
import subprocess
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


def build_c(tmp_path, source, out):
    """Compiles a small static C program (a racer) to out; False without a compiler."""
    src = tmp_path / (os.path.basename(str(out)) + ".c")
    src.write_text(source)
    for cc in (["musl-gcc", "-static"], ["cc", "-static"], ["cc"]):
        try:
            if subprocess.run([*cc, "-O2", "-o", str(out), str(src)], capture_output=True).returncode == 0:
                return True
        except FileNotFoundError:
            pass
    return False


SWAP_RACER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
/* racer DIR TARGET SECONDS NAME...: whenever DIR/NAME is a device node (husk just made it),
 * a symlink to TARGET is renamed over it */
int main(int argc, char **argv)
{
    if (argc < 5 || chdir(argv[1]) < 0)
        return 2;
    time_t end = time(NULL) + atoi(argv[3]);
    struct stat sb;
    symlink(argv[2], ".swap");
    while (time(NULL) < end)
        for (int k = 0; k < 10000; k++)
            for (int i = 4; i < argc; i++)
                if (lstat(argv[i], &sb) == 0 && S_ISCHR(sb.st_mode) && rename(".swap", argv[i]) == 0)
                    symlink(argv[2], ".swap");   /* ready for the next one */
    return 0;
}
"""


def start_swap_racer(tmp_path, directory, target, names, seconds=30):
    """A process turning the device nodes DIRECTORY/NAME into symlinks to target as soon as
    they appear (kill it when done); skips the test without a C compiler."""
    exe = tmp_path / "swap-racer"
    if not exe.exists() and not build_c(tmp_path, SWAP_RACER, exe):
        pytest.skip("no C compiler for the racer")
    return subprocess.Popen([str(exe), str(directory), str(target), str(seconds), *names])
