#!/usr/bin/env bash
# CI smoke fuzzing of sor-core: each cargo-fuzz target (fuzz/fuzz_targets/) runs for a short time
# (FUZZ_SECONDS, default 20 s). Any crash, failed invariant or hang (> FUZZ_TIMEOUT s on one input,
# default 10) fails the script; the reproducer is left in fuzz/artifacts/<target>/.
#
# cargo-fuzz is installed first when missing; only if that install fails is the run SKIPPED.
# The stable toolchain is used with RUSTC_BOOTSTRAP=1 (cargo fuzz needs -Z flags) and no sanitizer
# (sor-core is safe Rust; libFuzzer's coverage guidance and panics are what matter here).
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
TARGETS=(split schedules positions)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz_smoke: cargo-fuzz not found; installing it (cargo install cargo-fuzz --locked)"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz_smoke: SKIPPED: cargo-fuzz could not be installed"
        exit 0
    fi
fi
echo "fuzz_smoke: $(cargo fuzz --version)"

export RUSTC_BOOTSTRAP=1
failed=()
# Inputs that once failed must stay fixed.
for input in fuzz/regressions/*.bin; do
    [ -e "$input" ] || continue
    t=$(basename "$input" | cut -d- -f1)
    echo "fuzz_smoke: regression $input ($t)"
    if ! (cd fuzz && cargo fuzz run "$t" --sanitizer none "regressions/$(basename "$input")" -- -timeout="$TIMEOUT"); then
        failed+=("$t:$(basename "$input")")
    fi
done
for t in "${TARGETS[@]}"; do
    echo "fuzz_smoke: $t for ${SECONDS_PER_TARGET}s"
    (cd fuzz && mkdir -p "corpus/$t")
    if ! (cd fuzz && cargo fuzz run "$t" --sanitizer none -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout="$TIMEOUT" -print_final_stats=1); then
        echo "fuzz_smoke: FAILED: $t (reproducer in fuzz/artifacts/$t/)"
        failed+=("$t")
    fi
done

if ((${#failed[@]})); then
    echo "fuzz_smoke: FAILED targets: ${failed[*]}"
    exit 1
fi
echo "fuzz_smoke: OK (${TARGETS[*]}, ${SECONDS_PER_TARGET}s each, no crash)"
