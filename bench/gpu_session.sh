#!/usr/bin/env bash
# The GPU checks of the paper-scale issue in one prepared run (about 6 minutes on an H200).
#
#   OUT=/tmp/out bash bench/gpu_session.sh        # on a machine with a CUDA GPU
#
# Writes under $OUT: scale.json (bench/scale.py: every chapter's recipe, plain vs graph vs
# batched seeds, and the graph's and the batch's losses against the eager step's),
# anatomy.json (bench/step_anatomy.py: the step's time split, the next levers, the kernels by
# GPU time), and a resumed reproduce.py run (sit1.log stops on --max-minutes, sit2.log goes on
# from its checkpoint and scores). Each part has its own time limit, so one failure leaves the
# others' numbers.
set -u
OUT=${OUT:?set OUT to a folder for the results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 BOOK_NO_PROGRESS=1 BOOK_CACHE=${BOOK_CACHE:-/tmp/book-cache}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout 240 python3 bench/scale.py --device cuda --threads 4 --json "$OUT/scale.json" 2>&1 \
    | grep -v Warning | tee "$OUT/scale.log"
timeout 150 python3 bench/step_anatomy.py --device cuda --seeds 1,5 --levers --kernels \
    --json "$OUT/anatomy.json" 2>&1 | grep -v Warning | tee "$OUT/anatomy.log"
run="python3 experiments/reproduce.py pmp --budget 6000 --seeds 0-2 --kinds pmp --device cuda"
run="$run --workers 16 --quick-sizes --checkpoint-minutes 0.1 --out $OUT/run"
run="$run --grid-cache /tmp/dsprites_grid.npy"  # 3 GB: kept out of $OUT
timeout 100 $run --max-minutes 1.0 > "$OUT/sit1.log" 2>&1; echo "sitting 1: rc=$?"
timeout 150 $run > "$OUT/sit2.log" 2>&1; echo "sitting 2: rc=$?"
cut -c1-300 "$OUT/sit1.log" "$OUT/sit2.log"
rm -f "$OUT"/run/*.pt "$OUT"/run/models/*.pt  # keep the JSON, not the weights
