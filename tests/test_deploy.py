"""What operators deploy with: the systemd units pass `systemd-analyze verify` (skipped where it
is missing) and keep the restart and hardening policy; the HAProxy configuration parses
(skipped without haproxy). HAProxy's behaviour is tested in tests/test_balancer.py and, under
faults, in tests/e2e/test_supervised_faults.py."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from common.settings import PROJECT_ROOT

UNITS = PROJECT_ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/gov-assistant"
SERVICES = sorted(UNITS.glob("*.service"))
LONG_RUNNING = [u for u in SERVICES if u.name != "gov-prepare.service"]


def unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # keys are case-sensitive
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    parser.read_string(text)
    return parser


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed here")
    # installed where this checkout is, so the programs they start exist
    names = []
    for path in [*SERVICES, *UNITS.glob("*.target")]:
        text = path.read_text(encoding="utf-8").replace(INSTALLED_AT, str(PROJECT_ROOT))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
        names.append(path.name.replace("@.", "@5011."))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if "gov-" in line]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


@pytest.mark.parametrize("path", LONG_RUNNING, ids=lambda p: p.name)
def test_every_service_restarts_on_failure_hardened_with_secrets_from_a_file(path):
    service, unit_section = unit(path)["Service"], unit(path)["Unit"]
    assert service["Restart"] == "on-failure"
    assert unit_section["StartLimitBurst"] and unit_section["StartLimitIntervalSec"]
    text = path.read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/gov-assistant/secrets.env" in text
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                   "PrivateTmp=yes", "User=gov-assistant", "CapabilityBoundingSet=\n"):
        assert option in text, option
    assert "TOKEN=" not in text and "PASSWORD=" not in text  # no secret in a unit


def test_the_haproxy_configuration_parses():
    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed here")
    example = (UNITS / "haproxy.env.example").read_text(encoding="utf-8")
    env = dict(line.split("=", 1) for line in example.splitlines()
               if line and not line.startswith("#"))
    result = subprocess.run(
        [shutil.which("haproxy"), "-c", "-f",
         str(PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg")],
        env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
