#!/usr/bin/env bash
# Chapter 05's loss ablation on one GPU: the runs `pmp_grid.py --ablation` makes in turn on a
# CPU, here side by side (one process per model, the GPU shared, so their seconds are not solo
# timings), plus PMP seed 0 retrained on the GPU (not saved) to show how far a change of device
# moves a model of the same recipe and seed.
#
#   OUT=some/folder bash experiments/pmp_ablation_gpu.sh [SECONDS]
#
# Writes one record per run to $OUT/<kind>_seed<seed>.jsonl and, in $OUT/checkpoints.tar, the
# checkpoints the runs saved under lib/pretrained/pmp/. SECONDS (default 400) bounds the runs.
set -u
: "${OUT:?set OUT to the folder for the records}"
limit=${1:-400}
export BOOK_NO_PROGRESS=1 PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
device=${DEVICE:-cuda}  # DEVICE=cpu STEPS=20: a smoke test of this script
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
run() {  # kind seed [extra args]
    local kind=$1 seed=$2; shift 2
    timeout "$limit" python3 experiments/pmp_grid.py --kind "$kind" --seed "$seed" \
        --device "$device" --threads 3 ${STEPS:+--steps $STEPS} "$@" --out "$OUT/${kind}_seed${seed}.jsonl" \
        >"$OUT/${kind}_seed${seed}.log" 2>&1
    echo "$kind seed $seed: exit $?"
}
run pmp_nospar 1 --update-shipped &
run pmp_scalefree 0 --update-shipped &
run pmp_scalefree 1 --update-shipped &
run pmp 0 --no-save &
wait
tail -n 3 "$OUT"/*.log
cat "$OUT"/*.jsonl >"$OUT/records.jsonl" 2>/dev/null
tar -cf "$OUT/checkpoints.tar" lib/pretrained/pmp/pmp_nospar_seed1.* \
    lib/pretrained/pmp/pmp_scalefree_seed*.* 2>/dev/null
tar -cf "$OUT/logs.tar" -C "$OUT" $(cd "$OUT" && ls *.log) && rm -f "$OUT"/*.log
rm -f "$OUT"/*_seed*.jsonl
ls -la "$OUT"
