#!/usr/bin/env bash
# Runs every libFuzzer target (or those named) for FUZZ_SECONDS each,
# starting from the committed corpus and regressions, and prints
# libFuzzer's final figures per target. New inputs go to the work corpus
# under $FUZZ_BUILD/corpus/<target>; crashes to
# $FUZZ_BUILD/artifacts/<target>/ (exit 1). FUZZ_JOBS targets run at once.
#
# usage: tests/fuzz/run.sh [TARGET...]
#   FUZZ_BUILD   where `make fuzz` put the binaries (default build/fuzz)
#   FUZZ_SECONDS seconds per target (default 60)
#   FUZZ_JOBS    targets fuzzed in parallel (default 1)
#   FUZZ_FLAGS   extra libFuzzer flags
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
fb=${FUZZ_BUILD:-$top/build/fuzz}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
if [ $# -eq 0 ]; then
	set -- $(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

fuzz_one() { # name
	local name=$1 bin=$fb/fuzz_$1 work=$fb/corpus/$1 art=$fb/artifacts/$1
	local dirs=() dict=()
	mkdir -p "$work" "$art"
	for d in corpus regressions; do
		[ -d "$top/tests/fuzz/$d/$name" ] && dirs+=("$top/tests/fuzz/$d/$name")
	done
	[ -f "$top/tests/fuzz/$name.dict" ] && dict=(-dict="$top/tests/fuzz/$name.dict")
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$art/" "${dict[@]}" \
		${FUZZ_FLAGS:-} "$work" "${dirs[@]}" >"$fb/$name.log" 2>&1
	echo $? >"$fb/$name.rc"
}

status=0
for name in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	fuzz_one "$name" &
done
wait
for name in "$@"; do
	log=$fb/$name.log
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(printf '%s' "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
	ft=$(printf '%s' "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
	if [ "$(cat "$fb/$name.rc")" -eq 0 ]; then
		printf 'fuzz %-12s ok     %ss execs %s (%s/s) cov %s ft %s\n' \
			"$name" "$secs" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}"
	else
		status=1
		printf 'fuzz %-12s FAILED (see %s; inputs in %s)\n' "$name" \
			"$log" "$fb/artifacts/$name"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5 | sed 's/^/    /'
	fi
done
exit $status
