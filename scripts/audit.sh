#!/usr/bin/env bash
# Audit the installed Python packages against PyPI's advisory data (pip-audit, its PyPI
# service: https://pypi.org/pypi/<name>/<version>/json lists each release's known
# vulnerabilities). Fails on any known vulnerability; says how many packages could be checked,
# because a registry mirror that does not serve that API leaves them unchecked rather than safe.
set -euo pipefail
cd "$(dirname "$0")/.."

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
.venv/bin/pip-audit --vulnerability-service pypi --skip-editable --progress-spinner off \
  --format json --output "$report" 2>/dev/null || status=$?

.venv/bin/python scripts/audit_report.py "$report" "$status"
