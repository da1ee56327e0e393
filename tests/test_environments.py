"""Creating an environment says how far it has got, in a few lines rather than pip's output
(stack/environments.py)."""

from __future__ import annotations

import subprocess
import sys

from stack.environments import install_lock


def test_installing_a_lock_prints_a_few_progress_lines(tmp_path, capsys):
    lock = tmp_path / "small.lock"
    lock.write_text("# a frozen set\nsix==1.17.0\nidna==3.20\n")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install_lock(venv / "bin" / "python", lock, "small")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[setup] small environment: 2/2 packages fetched (")
    assert lines[-1].startswith("[setup] small environment: 2 packages installed (")
    assert all(line.startswith("[setup] small environment: ") for line in lines)
    assert len(lines) <= 3
    version = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import six; print(six.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "1.17.0"
