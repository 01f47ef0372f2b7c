"""The kill-at-every-syscall sweep (sweep.py) as a test: FAULTS_SAMPLE kill points per command
(evenly spread; 0 = every one, as `make faults` runs it). FAULTS_FOLLOW=1 (make faults) sweeps
again under strace -f: husk's children (intermediate, init, exec's process) are killed at their
own nth call of the same syscall too."""
import os
import shutil

import pytest

import sweep

SAMPLE = int(os.environ.get("FAULTS_SAMPLE", "40"))
FOLLOW = [False, True] if os.environ.get("FAULTS_FOLLOW") == "1" else [False]


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
@pytest.mark.parametrize("follow", FOLLOW, ids=lambda f: "children-too" if f else "husk")
@pytest.mark.parametrize("cmd", sweep.COMMANDS)
def test_killed_anywhere_delete_force_clears(sweeper, cmd, follow, capsys):
    with capsys.disabled():   # the figures, for the record
        print()
        fig = sweeper.sweep(cmd, SAMPLE, follow=follow)
    assert fig["killed"] > 0, "strace injected no kill"
    assert fig["hidden_before"] == 0, "a state directory list does not show"
    assert not fig["failures"], "\n".join(fig["failures"])
