#!/bin/sh
# t_fuzz_replay.sh: every file of the committed regression corpus fuzz/regress/<harness>/ (inputs
# the fuzzers once crashed, hung or blew memory with, minimised, plus a few seeds) runs through its
# harness without a crash, a sanitizer report, a hang (30 s; 90 s under ASan) or a peak RSS above
# 512 MiB (not checked for the sanitizer build). The harnesses run through the plain replay drivers
# ($BUILD/fuzz/replay_<name>, built by `make units` with the normal or the sanitizer flags), so no
# libFuzzer is needed; `make fuzz` replays the same files through the libFuzzer binaries.
# One PASS/FAIL line per file, named after it.
TESTS=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$TESTS")
BUILD=${BUILD:-$REPO/build}
REGRESS=$REPO/fuzz/regress
NAMES="fs journal check part path ddmap"

if ! command -v python3 > /dev/null 2>&1; then
	echo "SKIP fuzz_replay: python3 not installed (it times each run and measures its memory)"
	exit 0
fi
limit=30
case $BUILD in *build-san*) limit=90 ;; esac

for n in $NAMES; do
	drv=$BUILD/fuzz/replay_$n
	if [ ! -x "$drv" ]; then
		echo "SKIP fuzz_replay $n: $drv not built (make units)"
		continue
	fi
	if [ -z "$(ls "$REGRESS/$n" 2> /dev/null)" ]; then
		echo "FAIL fuzz_replay $n: no regression files in fuzz/regress/$n"
		continue
	fi
	python3 - "$drv" "$n" "$limit" "$REGRESS/$n"/* <<'PY'
import os, signal, subprocess, sys, tempfile, time
drv, name, limit, files = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
san = "build-san" in drv
env = dict(os.environ)
env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
# one allocation over 512 MiB is a blow-up even when it is never touched (ASan builds abort on it)
env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":max_allocation_size_mb=512").lstrip(":")

def run(path):
    """(exit code or None on a hang, peak RSS in KiB, seconds, output)"""
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen([drv, path], stdout=out, stderr=subprocess.STDOUT, env=env,
                             start_new_session=True)
        t0 = time.monotonic()
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() - t0 > limit:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                rc = None
                break
            time.sleep(0.02)
        p.returncode = -1            # reaped here, not by Popen
        out.seek(0)
        # ru_maxrss of a child counts from the fork, so it is at least this python's own size
        return rc, ru.ru_maxrss, time.monotonic() - t0, out.read().decode("utf-8", "replace")

for f in files:
    label = "fuzz_replay %s/%s" % (name, os.path.basename(f))
    rc, rss_kib, secs, text = run(f)
    bad = [l for l in text.splitlines()
           if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l or "SUMMARY:" in l]
    if rc is None:
        print("FAIL %s: still running after %.0f s (a hang)" % (label, limit))
    elif rc != 0 or bad:
        print("FAIL %s: exit %d%s" % (label, rc, (": " + bad[0].strip()) if bad else ""))
        for l in [l for l in text.splitlines() if l.lstrip().startswith("#")][:8]:
            print("    " + l.strip())
    elif not san and rss_kib > 512 * 1024:
        print("FAIL %s: peak RSS %d MiB > 512 MiB" % (label, rss_kib // 1024))
    else:
        print("PASS %s (%.1f s, %d MiB)" % (label, secs, rss_kib // 1024))
PY
done
exit 0
