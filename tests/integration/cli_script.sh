#!/usr/bin/env bash
# A script as an integrator writes one: only `descent ... --output json` and `python -c`,
# branching on exit statuses. DESCENT_URL names the server; $1 is a job spec, $2 a folder.
set -euo pipefail
spec=$1
work=$2
field() { python -c "import json, sys; print(json.load(sys.stdin)$1)"; }

# The spec is checked first: the server's summary of the model, and no job queued.
descent validate "$spec" -o json | field '["summary"]["total_params"]' > "$work/params"

# Submit, then re-attach to the job's events; the watch ends with the job's final object.
job=$(descent submit "$spec" -o json | field '["id"]')
descent watch "$job" -o json > "$work/final.json"   # exit 0: the job succeeded
status=$(field '["status"]' < "$work/final.json")
model=$(field '["model_id"]' < "$work/final.json")
[ "$status" = succeeded ] || { echo "job $job ended $status" >&2; exit 1; }

descent jobs show "$job" -o json | field '["status"]' > "$work/shown"
descent history "$job" -o json > "$work/history.json"
descent models show "$model" -o json > "$work/model.json"
descent jobs list --limit 200 -o json | field '["items"][0]["id"]' > "$work/newest"
descent models list -o json | python -c "
import json, sys
assert '$model' in [m['id'] for m in json.load(sys.stdin)['items']]"
descent models download "$model" -o "$work/model.keras" > "$work/downloaded"

# Distinct exit statuses for what went wrong.
set +e
echo '{"dataset": {"name": "mnist"}, "epochs": -1}' > "$work/bad.json"
descent validate "$work/bad.json" -o json > "$work/bad.out" 2> "$work/bad.err"
echo "validate-bad $?" >> "$work/codes"
descent submit "$work/bad.json" -o json > /dev/null 2>&1
echo "submit-bad $?" >> "$work/codes"
descent jobs show 00000000000000000000000000000000 -o json > /dev/null 2>&1
echo "unknown-job $?" >> "$work/codes"
DESCENT_URL=http://127.0.0.1:9 descent jobs list -o json > "$work/unreachable.out" 2> /dev/null
echo "unreachable $?" >> "$work/codes"
descent submit "$work/absent.json" > /dev/null 2>&1
echo "missing-file $?" >> "$work/codes"
descent jobs list --limit nope > /dev/null 2>&1
echo "usage $?" >> "$work/codes"
