#!/usr/bin/env bash
# The README's own commands, run as written (CI runs this after the tests): `make run` (here on
# free ports, as the README allows), then the `generate` command from the README's fenced block
# marked <!-- readme-check: generate -->, in a second shell; the generation must succeed and its
# video_url must be the running site's. Stops the demo and checks no process outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${README_CHECK_PORT:-8190}
sim_port=${README_CHECK_SIM_PORT:-8895}
log=$(mktemp)
make run PORT="$port" SIM_PORT="$sim_port" >"$log" 2>&1 &
run_pid=$!
cleanup() {
  pkill -TERM -f "manage.py rundemo --port $port" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  grep -q "seedance-web is running" "$log" && break
  if ! kill -0 "$run_pid" 2>/dev/null; then cat "$log"; echo "make run stopped"; exit 1; fi
  sleep 1
done
grep -q "seedance-web is running: http://127.0.0.1:$port/" "$log" || { cat "$log"; exit 1; }

# The command exactly as the README writes it (its line continuations joined).
command=$(awk '/<!-- readme-check: generate/{found=1; next} found && /^```sh/{inside=1; next}
  inside && /^```/{exit} inside {print}' README.md | sed -e 's/\\$//' | tr '\n' ' ')
[ -n "$command" ] || { echo "README has no <!-- readme-check: generate --> block"; exit 1; }
echo "README: $command"
result=$(eval "$command" 2>/dev/null | tail -n 1)
echo "$result" | .venv/bin/python -c '
import json, sys
task = json.loads(sys.stdin.read())
port = sys.argv[1]
assert task["status"] == "succeeded", task
assert task["video_url"].startswith(f"http://127.0.0.1:{port}/media/s/"), task["video_url"]
print("README generate:", task["status"], task["duration_s"], "s, held $" + task["held_usd"],
      "charged $" + task["charged_usd"])
' "$port"

pkill -TERM -f "manage.py rundemo --port $port"
wait "$run_pid" 2>/dev/null || true
# rundemo gives its children up to 10 s to stop before it kills them: wait for it to end.
for _ in $(seq 1 30); do
  pgrep -f "python manage.py rundemo --port $port" >/dev/null || break
  sleep 1
done
# This checkout's children only (rundemo starts them with its own interpreter's full path).
if pgrep -f "$PWD/.venv/bin/python manage.py (qcluster|simulate_upstream --port $sim_port|runserver 127.0.0.1:$port)" >/dev/null; then
  echo "processes outlived the demo:"; pgrep -af "manage.py"; exit 1
fi
echo "README check: OK"
