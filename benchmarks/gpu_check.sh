#!/usr/bin/env bash
# The GPU check: decoding and training speed on one GPU with 16 cores, in at most 8 minutes, into
# OUT/gpu_check.json, OUT/gpu_check.md and OUT/gpu_check.log. What each part measures and how:
# benchmarks/gpu_check.py; where the figures go: benchmarks/RESULTS.md, "GPU check".
#
#   benchmarks/gpu_check.sh OUT              # the GPU machine
#   benchmarks/gpu_check.sh --dry-run OUT    # any CPU: the same parts at tiny sizes, GPU figures recorded as skipped
#
# The lent GPU machine starts bare, without network: its python3 has torch, torchvision and
# lightning but not PyAV, torchcodec, pytorchvideo, jsonargparse or torchdata, and no FFmpeg is
# listed. In the root of the checkout that the device tool sends (the session's own):
#   1. here, once:  bash benchmarks/gpu_env.sh      # .gpuenv/ (git-ignored): wheels and an ffmpeg tool, 45 MiB
#   2. the call:    run(command='bash benchmarks/gpu_check.sh "$OUT"', carry=[".gpuenv"], timeout_s=540)
# This script then installs .gpuenv into /tmp/vidcls-site (pip, from the wheels only) before the parts.
#
# Time: BUDGET seconds in all (470: the 8 minutes less the final report and a margin). Each step
# runs under `timeout`, limited to its cap and to what is left of BUDGET; inside a step no figure
# starts that would end past the step's limit (it is recorded as skipped). Caps, in priority order,
# for 16 cores and one H200; the expected times are estimates from the CPU runs, not measurements:
#   environment        60 s   pip installs 45 MiB of wheels (expected ~15 s)
#   probe              40 s   imports, CUDA start (~10 s)
#   videos            150 s   ~600 synthetic 3 s clips made and prepared, 32 + 8 raw 10 s clips (~80 s)
#   train, CPU decode 170 s   fp32/bf16 x channels_last off/on, 2 models, model-only + end-to-end (~130 s)
#   train, GPU decode  70 s   bf16 + channels_last, 2 models; spawned workers start slower (~50 s)
#   decode            110 s   12 loader figures of 32 clips per worker after warm-up (~90 s)
#   predict            60 s   6 prediction figures of 256 raw 10 s clips, one clip each (~40 s)
#   train, compile    rest    all switches; each model compiles twice (model-only, end-to-end): likely
#                             one model fits; a step starts only with at least 60 s left
set -uo pipefail
DRY_RUN=
if [ "${1:-}" = --dry-run ]; then DRY_RUN=1; shift; fi
OUT=${1:?usage: benchmarks/gpu_check.sh [--dry-run] OUT}
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-python3}
PLAN=gpu BUDGET=470 GPU_DECODING_SWITCHES=amp+channels_last
# on a CPU train_throughput leaves out rows that differ only on CUDA (channels_last): amp keeps the step's rows
if [ -n "$DRY_RUN" ]; then PLAN=dry-run BUDGET=300 GPU_DECODING_SWITCHES=amp; fi
BUDGET=${GPU_CHECK_BUDGET:-$BUDGET}
WORK=${GPU_CHECK_WORK:-benchmarks/.cache/gpu_check}  # records.jsonl and the videos (kept: a rerun reuses them)
SITE=/tmp/vidcls-site
LOG=$OUT/gpu_check.log
START=$(date +%s)
DEADLINE=$((START + BUDGET))
MARGIN=15  # seconds kept back from each limit: `timeout -k 10` and the report after it

note() {  # a step's record: name, status, seconds (the texts are this script's, so plain printf is safe)
    printf '{"step": "%s", "status": "%s", "seconds": %s}\n' "$1" "$2" "$3" >>"$WORK/records.jsonl"
}

report() {
    "$PYTHON" benchmarks/gpu_check.py report --work "$WORK" --out "$OUT" --log "$LOG" || echo "== the report failed"
}

install_environment() {  # the carried .gpuenv on the GPU machine; a dry run uses $PYTHON's own packages
    local started=$SECONDS status=ok lib name rest
    if [ -n "$DRY_RUN" ] || [ ! -d .gpuenv ]; then
        note environment "not installed: $PYTHON with its own packages" 0
        return
    fi
    if timeout -k 10 60 "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .gpuenv/wheels/*.whl; then
        # torchcodec loads FFmpeg by its sonames (libavcodec.so.62, ...): give PyAV's bundled copies those names
        for lib in "$SITE"/av.libs/lib{avcodec,avdevice,avfilter,avformat,avutil,swresample,swscale}-*.so.*; do
            name=${lib##*/} rest=${lib#*.so.}
            ln -sf "$name" "$SITE/av.libs/${name%%-*}.so.${rest%%.*}"
        done
        install -D -m 755 .gpuenv/bin/ffmpeg "$SITE/bin/ffmpeg"  # finds its libraries in ../av.libs
    else
        status="pip install failed (exit status $?)"
    fi
    export PYTHONPATH="$PWD/src:$SITE" LD_LIBRARY_PATH="$SITE/av.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PATH="$SITE/bin:$PATH"
    note environment "$status" $((SECONDS - started))
}

step() {  # step NAME CAP MIN PART [ARGS...]: gpu_check.py PART under its time limit, then the report
    local name=$1 cap=$2 min=$3 left limit started rc status
    shift 3
    left=$((DEADLINE - $(date +%s) - MARGIN))
    if [ "$left" -lt "$min" ]; then
        note "$name" "skipped: $left s left of the budget, it needs $min" 0
        report
        return
    fi
    limit=$((cap < left ? cap : left))
    echo "== $name: at most $limit s, $(date +%T)"
    started=$(date +%s)
    timeout -k 10 "$limit" "$PYTHON" benchmarks/gpu_check.py "$@" --plan "$PLAN" --work "$WORK" \
        --deadline $((started + limit - 5))
    rc=$?
    case $rc in
        0) status=ok ;;
        124) status="stopped at its limit ($limit s)" ;;
        137) status="killed (its limit, or out of memory)" ;;
        *) status="failed (exit status $rc; the log has why)" ;;
    esac
    note "$name" "$status" $(($(date +%s) - started))
    report
}

main() {
    echo "== GPU check ($PLAN), budget $BUDGET s, $(date)"
    mkdir -p "$WORK" && rm -f "$WORK/records.jsonl"
    export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
    install_environment
    step probe 40 10 probe
    step videos 150 30 videos
    step "train, CPU decoding" 170 40 train --switches baseline,amp,channels_last,amp+channels_last
    step "train, GPU decoding" 70 30 train --switches "$GPU_DECODING_SWITCHES" --decode-device cuda
    step decode 110 30 decode
    step predict 60 20 predict
    if [ -n "$DRY_RUN" ]; then
        note "train, compile" "skipped: not in a dry run (compiling on a CPU takes minutes)" 0
        report
    else
        step "train, compile" 600 60 train --switches all
    fi
    echo "== done in $(($(date +%s) - START)) s: $OUT/gpu_check.md"
    cat "$OUT/gpu_check.md"
}

main 2>&1 | tee "$LOG"
