"""The systemd unit kept in deploy/: systemd itself checks it, where systemd is installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from newsletter.service import SHUTDOWN_LIMIT_S

UNIT = REPO / "deploy" / "newsletter.service"
INSTALLED_SCRIPT = "/opt/newsletter/.venv/bin/newsletter"  # where the README installs it


def _settings() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_unit_restarts_on_failure_keeps_secrets_apart_and_writes_only_its_state():
    s = _settings()
    assert s["Restart"] == ["on-failure"] and s["EnvironmentFile"] == ["/etc/newsletter/secrets.env"]
    assert s["User"] == ["newsletter"] and s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
    assert s["ReadWritePaths"] == [f"/var/lib/{s['StateDirectory'][0]}"] == s["WorkingDirectory"]
    assert s["ExecStart"] == [f"{INSTALLED_SCRIPT} --log-format json run"]
    # systemd waits this long after SIGTERM before SIGKILL: longer than the service's own stop.
    assert float(s["TimeoutStopSec"][0]) > SHUTDOWN_LIMIT_S
    readme = (REPO / "README.md").read_text()
    assert "deploy/newsletter.service" in readme and "systemd-analyze verify" in readme


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); the unit is not verified here")
    # verify also checks that ExecStart exists: point it at this checkout's script, nothing else changes.
    script = Path(sys.executable).with_name("newsletter")
    if not script.exists():
        pytest.skip(f"no console script at {script} (pip install -e . installs it)")
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(INSTALLED_SCRIPT, str(script)))
    result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    said = [line for line in (result.stdout + result.stderr).splitlines() if UNIT.name in line]
    # A misspelt key or a bad value is only a warning to systemd (exit 0): any line about the unit fails.
    assert result.returncode == 0 and said == [], result.stdout + result.stderr
