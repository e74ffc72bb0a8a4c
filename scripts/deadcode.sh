#!/usr/bin/env bash
# Dead code (vulture, configured in pyproject.toml [tool.vulture]): any unused function,
# method, class, import or unreachable line fails. Unused variables and attributes are not
# judged: model fields, dataclass fields and values read by templates are used where vulture
# cannot see.
set -euo pipefail
cd "$(dirname "$0")/.."
found=$(.venv/bin/vulture 2>&1 | grep -E "unused (function|method|class|import|property)|unreachable" || true)
if [ -n "$found" ]; then
  echo "Dead code (remove it, or name it in scripts/vulture_allowlist.py if a framework reaches it):"
  echo "$found"
  exit 1
fi
echo "dead code: none"
