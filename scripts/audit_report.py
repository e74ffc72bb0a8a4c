"""Read a `pip-audit --format json` report: print each known vulnerability and how many packages
were checked; exit 1 when any package has one (scripts/audit.sh runs it in CI).

    python scripts/audit_report.py REPORT.json PIP_AUDIT_EXIT_STATUS
"""

from __future__ import annotations

import json
import sys


def main(path: str, status: int) -> int:
    try:
        with open(path) as handle:
            deps = json.load(handle)["dependencies"]
    except (OSError, ValueError, KeyError):
        print(f"dependency audit: pip-audit gave no report (exit {status})")
        return 1
    checked = [dep for dep in deps if "skip_reason" not in dep]
    found = [(dep, vuln) for dep in checked for vuln in dep.get("vulns", [])]
    for dep, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no release yet"
        print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    print(
        f"dependency audit: {len(checked)} of {len(deps)} packages checked against PyPI's "
        f"advisories, {len(found)} known vulnerabilities"
    )
    if not checked:
        print(
            "WARNING: the package index answered no advisory data for any package (its "
            "per-release JSON API is not served here): nothing was checked."
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
