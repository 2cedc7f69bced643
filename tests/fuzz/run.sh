#!/bin/sh
# run.sh: runs the libFuzzer targets built by tests/fuzz.mk.
#   run.sh fuzz DIR SECONDS NAME...    fuzz each target for SECONDS from
#       fixtures/fuzz/NAME/ (new inputs into DIR/corpus-NAME, crashes,
#       leaks and timeouts into DIR/artifacts/NAME/), then one line per
#       target: executions, executions per second, coverage, findings.
#       Exits 1 when any target found something.
#   run.sh regress DIR 0 NAME...       each target once over every file of
#       fixtures/fuzz/NAME/. Exits 1 at the first failing target.
set -u

mode=$1 dir=$2 seconds=$3
shift 3
status=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# The value of libFuzzer's final "stat::KEY: VALUE" line in log $1.
stat() {
	sed -n "s/^stat::$2: *//p" "$1" | tail -n 1
}

regress() {
	name=$1 seeds=fixtures/fuzz/$1
	log=$dir/regress-$name.log
	n=$(ls "$seeds" | wc -l)
	if [ "$n" -eq 0 ]; then
		echo "fuzz-regress: $name: no inputs in $seeds" >&2
		return 1
	fi
	if ! "$dir/fuzz_$name" -timeout=10 "$seeds"/* >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "fuzz-regress: $name: FAILED (log: $log)" >&2
		return 1
	fi
	echo "fuzz-regress: $name: $n inputs, no finding"
}

fuzz() {
	name=$1 seeds=fixtures/fuzz/$1
	log=$dir/fuzz-$name.log
	art=$dir/artifacts/$name
	corpus=$dir/corpus-$name
	mkdir -p "$art" "$corpus"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
	"$dir/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
	    -print_final_stats=1 -artifact_prefix="$art/" $dict \
	    "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(stat "$log" number_of_executed_units)
	speed=$(stat "$log" average_exec_per_sec)
	rss=$(stat "$log" peak_rss_mb)
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	found=$(ls "$art" | grep -c -E '^(crash|leak|timeout|oom)-')
	printf '%-16s %10s execs %7s exec/s  %-20s corpus %5s  rss %4s MB  ' \
	    "$name" "${execs:-?}" "${speed:-?}" "${cov:-cov: ?}" \
	    "$(ls "$corpus" | wc -l)" "${rss:-?}"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		echo "FINDINGS: $found (exit $rc; log $log; inputs in $art/)"
		return 1
	fi
	echo "findings: 0"
}

for name in "$@"; do
	"$mode" "$name" || status=1
	[ "$mode" = regress ] && [ "$status" -ne 0 ] && break
done
[ "$mode" = fuzz ] && [ "$status" -ne 0 ] &&
	echo "make fuzz: findings: reproduce with $dir/fuzz_NAME FILE, fix," \
	    "then add the file to fixtures/fuzz/NAME/" >&2
exit "$status"
