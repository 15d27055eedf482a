#!/usr/bin/env bash
# Evaluation on a Slurm cluster, one task (process) per GPU.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#       tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]
#
# Other variables: GRES (default gpu:$GPUS_PER_NODE; "none" for CPU
# partitions), PORT (rendezvous port, default 29500), PYTHON (python).
set -e

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py options]" >&2
    exit 2
fi
TOOLS=$(cd "$(dirname "$0")" && pwd)
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
CHECKPOINT=$4
PY_ARGS=("${@:5}")
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
GRES=${GRES:-gpu:${GPUS_PER_NODE}}
GRES_ARG=()
if [ "$GRES" != "none" ]; then
    GRES_ARG=(--gres="$GRES")
fi
if [ -n "$PORT" ]; then
    export MASTER_PORT=$PORT
fi
export PYTHONPATH="$TOOLS/..":$PYTHONPATH

# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    "${GRES_ARG[@]}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher=slurm "${PY_ARGS[@]}"
