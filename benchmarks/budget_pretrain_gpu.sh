#!/bin/bash
# The five budgeted pretraining runs of one borrowed-GPU call, side by side on the one device
# (each sizes its schedule to BUDGET seconds; see budget_pretrain.py). Run from the repository
# root:  bash benchmarks/budget_pretrain_gpu.sh WORKDIR BUDGET DATADIR
# DATADIR holds the CoLoRA authors' colora_vlasov/ and colora_rde/ HDF5 folders. EXTRA (an
# environment variable) is appended to every run's options (a quick local trial: smaller
# batches). At the end every run's model and record are packed into WORKDIR/runs.tar.gz
# (a borrowed machine may send back only a few files: one archive instead of some thirty).
set -u
work=$1 budget=$2 data=$3
mkdir -p "$work"
export XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
python3 -c "import jax, equinox, diffrax, optax; print('jax', jax.__version__, jax.devices(), 'equinox', equinox.__version__, 'optax', optax.__version__)"
run() {
    name=$1; shift
    python3 benchmarks/budget_pretrain.py "$@" --out "$work/$name" --budget "$budget" \
        ${EXTRA:-} > "$work/$name.log" 2>&1 &
}
w=neural_galerkin/weights
run vlasov_d vlasov-colora --data "$data/colora_vlasov" --init $w/vlasov-colora --batch-points 4096
run vlasov_r vlasov-colora --data "$data/colora_vlasov" --init $w/vlasov-colora --batch-points 4096 \
    --residual-weight 0.1
run wave_r wave-2d --init $w/wave-2d --batch-points 4096 --residual-weight 0.1
run wave_big wave-2d --width 64 --depth 6 --rank 3 --n-freq 3 --batch-points 4096 \
    --learning-rate 3e-3 --residual-weight 0.1
run rde_r rde --data "$data/colora_rde" --init $w/rde --batch-points 512 --residual-weight 0.1
wait
(cd "$work" && tar -czf runs.tar.gz $(ls -d -- */model */record.json 2>/dev/null))
for f in "$work"/*.log; do echo "== $f"; grep -v '"history"' "$f" | cut -c1-600 | tail -6; done
