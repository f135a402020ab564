#!/usr/bin/env bash
# Replays the committed corpus and crash regressions of every fuzz target
# through its replay program (built with the project's compiler and, in
# `make asan`, its sanitizers). TAP, one point per target.
#
# usage: tests/fuzz/replay.sh   (AMS_BUILD: the build directory)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${AMS_BUILD:-$top/build}
n=0 failed=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	n=$((n + 1))
	dirs=()
	for d in corpus regressions; do
		[ -d "$top/tests/fuzz/$d/$name" ] && dirs+=("$top/tests/fuzz/$d/$name")
	done
	bin=$build/tests/fuzz/replay_$name
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $name: $bin is not built"
		failed=$((failed + 1))
	elif [ ${#dirs[@]} -eq 0 ]; then
		echo "not ok $n - $name: no corpus in tests/fuzz/corpus/$name"
		failed=$((failed + 1))
	elif out=$(${FUZZ_REPLAY_WRAPPER:-} "$bin" -v "${dirs[@]}" 2>&1); then
		echo "ok $n - $name: ${out##*$'\n'}"
	else
		echo "not ok $n - $name"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
