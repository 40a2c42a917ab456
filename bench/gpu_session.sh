#!/usr/bin/env bash
# The GPU checks of the paper-scale issue as one prepared run, in two parts that each fit one
# device call (about 7.5 and 5 minutes on an H200).
#
#   OUT=/tmp/out PART=bench bash bench/gpu_session.sh    # then
#   OUT=/tmp/out PART=runs bash bench/gpu_session.sh     # (PART=all: both)
#
# PART=bench writes scale.json (bench/scale.py: every chapter's recipe, plain vs graph vs
# batched seeds, vmap'd or on CUDA streams, and their losses against the eager step's and each
# seed's alone) and anatomy.json (bench/step_anatomy.py: the step's time split, the levers,
# the kernels by GPU time). PART=runs trains through experiments/reproduce.py: a PMP run in
# two sittings (sit1.log stops after --sitting-steps, sit2.log resumes from its checkpoint and
# scores), and short torus and atomic runs. Each part has its own time limit, so one failure
# leaves the others' numbers. The 3 GB dSprites grid is cached in /tmp, outside $OUT.
set -u
OUT=${OUT:?set OUT to a folder for the results}
PART=${PART:-all}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 BOOK_NO_PROGRESS=1 BOOK_CACHE=${BOOK_CACHE:-/tmp/book-cache}
GRID=/tmp/dsprites_grid.npy
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
if [ "$PART" = bench ] || [ "$PART" = all ]; then
    timeout 220 python3 bench/scale.py --device cuda --threads 4 --grid-cache $GRID \
        --json "$OUT/scale.json" 2>&1 | grep -v Warning | tee "$OUT/scale.log"
    timeout 230 python3 bench/step_anatomy.py --device cuda --seeds 1,5 --levers --kernels \
        --grid-cache $GRID --json "$OUT/anatomy.json" 2>&1 | grep -v Warning \
        | tee "$OUT/anatomy.log"
fi
if [ "$PART" = runs ] || [ "$PART" = all ]; then
    run="python3 experiments/reproduce.py pmp --budget 6000 --seeds 0-2 --kinds pmp"
    run="$run --device cuda --workers 16 --quick-sizes --checkpoint-minutes 0.1"
    run="$run --grid-cache $GRID --out $OUT/run"
    timeout 60 $run --sitting-steps 2000 > "$OUT/sit1.log" 2>&1; echo "sitting 1: rc=$?"
    timeout 120 $run > "$OUT/sit2.log" 2>&1; echo "sitting 2: rc=$?"
    timeout 60 python3 experiments/reproduce.py torus --budget cpu --seeds 0-1 \
        --device cuda --out "$OUT/torus" > "$OUT/torus.log" 2>&1; echo "torus: rc=$?"
    timeout 60 python3 experiments/reproduce.py atomic --budget 2000 --seeds 0-1 \
        --device cuda --out "$OUT/atomic" > "$OUT/atomic.log" 2>&1; echo "atomic: rc=$?"
    cut -c1-300 "$OUT/sit1.log" "$OUT/sit2.log" "$OUT/torus.log" "$OUT/atomic.log"
    rm -f "$OUT"/*/*.pt "$OUT"/*/models/*.pt  # keep the JSON, not the weights
fi
