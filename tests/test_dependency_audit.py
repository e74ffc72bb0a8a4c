"""scripts/audit_report.py, the CI dependency audit's verdict on a pip-audit JSON report: a known
vulnerability fails the run and is named; a clean report passes and says how much was checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "audit_report.py"


def verdict(tmp_path: Path, deps: list[dict]) -> subprocess.CompletedProcess:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": deps, "fixes": []}))
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(report), "1"], capture_output=True, text=True
    )


def test_a_known_vulnerability_fails_the_audit(tmp_path):
    result = verdict(
        tmp_path,
        [
            {
                "name": "django",
                "version": "6.0.0",
                "vulns": [{"id": "PYSEC-2026-1", "fix_versions": ["6.0.1"], "aliases": []}],
            },
            {"name": "httpx", "version": "0.29.0", "vulns": []},
        ],
    )
    assert result.returncode == 1
    assert "VULNERABLE django 6.0.0: PYSEC-2026-1 (fixed in 6.0.1)" in result.stdout
    assert "2 of 2 packages checked" in result.stdout and "1 known vulnerabilities" in result.stdout


def test_a_clean_report_passes_and_counts_what_was_skipped(tmp_path):
    result = verdict(
        tmp_path,
        [
            {"name": "httpx", "version": "0.29.0", "vulns": []},
            {"name": "private-pkg", "version": "1.0", "skip_reason": "not on PyPI"},
        ],
    )
    assert result.returncode == 0
    assert "1 of 2 packages checked against PyPI's advisories, 0 known" in result.stdout


def test_no_report_fails(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "missing.json"), "2"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "gave no report (exit 2)" in result.stdout
