#!/bin/sh
# SPDX-License-Identifier: MIT
# determinism.sh MAGMA_CAMPAIGN CAMPAIGN.json COMMAND... - every point of CAMPAIGN (no witness,
# a single-threaded COMMAND) run twice with --point: the same outcome, the same checks failed,
# and the same fired and applied cycles. (Whether a job happened to complete after a detection
# with no witness running - recovery "pass" or "skip" - is the host's scheduling, not a verdict.)
set -u
campaign_tool=$1
campaign=$2
shift 2
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
points=$(grep -c '"kind"' "$campaign")
status=0
id=1
while [ "$id" -le "$points" ]; do
	for run in 1 2; do
		"$campaign_tool" --quiet --json "$dir/$id.$run.json" --point "$id" "$campaign" -- "$@" \
			>"$dir/$id.$run.out" 2>&1
		# What must not change between runs: outcomes, check results, fired/applied cycles.
		grep -E '"(outcome|result|fired_cycle|applied_cycle)"' "$dir/$id.$run.json" |
			sed 's/"skip"/"pass"/' >"$dir/$id.$run.facts"
		[ -s "$dir/$id.$run.facts" ] || { echo "point $id run $run: no report"; status=1; }
	done
	if ! cmp -s "$dir/$id.1.facts" "$dir/$id.2.facts"; then
		echo "point $id differs between two runs:"
		diff "$dir/$id.1.facts" "$dir/$id.2.facts"
		status=1
	else
		echo "point $id: the same twice ($(grep -m1 outcome "$dir/$id.1.facts" | tr -d '\t ,'))"
	fi
	id=$((id + 1))
done
exit $status
