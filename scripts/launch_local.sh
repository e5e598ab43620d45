#!/usr/bin/env bash
# Starts N lntune processes on this machine as one data-parallel job (c10d, Gloo over loopback),
# with the environment torchrun would set: RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
#   scripts/launch_local.sh N build/lntune train --config ... [--set ...]
# Rank 0 prints the results and writes the run folder; the exit code is the worst of the N.
# Each process gets nproc/N cores (LNTUNE_CORES, OPENBLAS_NUM_THREADS; lntune splits them between
# its own threads and OpenBLAS's pool) unless LNTUNE_CORES or OMP_NUM_THREADS is set.
set -uo pipefail
n=${1:?usage: launch_local.sh N COMMAND...}
shift
[ "$n" -ge 1 ] 2> /dev/null || { echo "launch_local: N must be a positive integer" >&2; exit 2; }
export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
export MASTER_PORT=${MASTER_PORT:-$((20000 + RANDOM % 20000))}
export WORLD_SIZE=$n
share=$(( $(nproc) / n ))
[ "$share" -gt 0 ] || share=1
if [ -z "${OMP_NUM_THREADS:-}" ]; then
  export LNTUNE_CORES=${LNTUNE_CORES:-$share}
  export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$LNTUNE_CORES}
fi
pids=()
for ((r = 0; r < n; r++)); do
  RANK=$r LOCAL_RANK=$r "$@" &
  pids+=($!)
done
trap 'kill -INT "${pids[@]}" 2> /dev/null' INT TERM
rc=0
for p in "${pids[@]}"; do
  wait "$p"
  s=$?
  [ $s -gt $rc ] && rc=$s
done
exit $rc
