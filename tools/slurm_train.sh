#!/usr/bin/env bash
# Training on a Slurm cluster, one task (process) per GPU.
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] \
#       tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]
#
# By default srun runs the job in the foreground, as in OpenMMLab projects.
# On SIGTERM (time limit, preemption, scancel) every rank saves a checkpoint
# after the current iteration and exits; run again with --resume to go on.
#
# Requeue: with SBATCH=1 the same job is submitted with `sbatch --requeue`
# (output in WORK_DIR/slurm-<jobid>.out) and the command returns. That job
# starts with --resume whenever WORK_DIR holds a checkpoint, so a requeued
# job continues from the newest one. SIGNAL_MARGIN seconds (default 120)
# before the time limit Slurm signals the batch script, which stops
# training (checkpoint) and requeues the job; preempted jobs
# (PreemptMode=REQUEUE) are requeued by Slurm itself. `scancel` stops the
# job for good (after a checkpoint).
#
# Other variables: GRES (default gpu:$GPUS_PER_NODE; GRES=none requests no
# generic resource, e.g. on CPU partitions), PORT (rendezvous port, default
# 29500; set it when jobs share a node), PYTHON (python), SBATCH_ARGS (more
# sbatch options, e.g. "--time=24:00:00").
set -e

TOOLS=${MMMOSAIC_TOOLS:-$(cd "$(dirname "$0")" && pwd)}
export MMMOSAIC_TOOLS=$TOOLS

if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py options]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
PY_ARGS=("${@:5}")
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
SBATCH_ARGS=${SBATCH_ARGS:-""}
SIGNAL_MARGIN=${SIGNAL_MARGIN:-120}
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

TASK_ARGS=(--ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE"
           --cpus-per-task="$CPUS_PER_TASK" "${GRES_ARG[@]}")

if [ -n "$_MMMOSAIC_BATCH_JOB" ]; then
    # Inside the batch job (also after a requeue): run the step in the
    # background so that the signals below reach this script at once.
    # --resume once a checkpoint exists (train.py refuses it before).
    RESUME=()
    if compgen -G "$WORK_DIR/*.pth" > /dev/null; then
        RESUME=(--resume)
    fi
    # shellcheck disable=SC2086
    srun "${TASK_ARGS[@]}" --kill-on-bad-exit=1 ${SRUN_ARGS} \
        "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
        --launcher=slurm "${RESUME[@]}" "${PY_ARGS[@]}" &
    step=$!
    requeue=0
    # USR1: time limit near (sbatch --signal). TERM: preemption or scancel.
    # Either way the ranks get SIGTERM (through Slurm: a signal to srun
    # itself would cancel the step), checkpoint and exit.
    stop_step() { scancel --signal=TERM "$SLURM_JOB_ID" 2>/dev/null || true; }
    trap 'requeue=1; stop_step' USR1
    trap 'stop_step' TERM
    set +e
    while kill -0 "$step" 2>/dev/null; do
        wait "$step"
    done
    wait "$step"
    status=$?
    if [ "$requeue" = 1 ]; then
        echo "slurm_train.sh: requeueing job $SLURM_JOB_ID to resume"
        scontrol requeue "$SLURM_JOB_ID"
    fi
    exit $status
fi

if [ -n "$SBATCH" ] && [ "$SBATCH" != 0 ]; then
    mkdir -p "$WORK_DIR"
    # shellcheck disable=SC2086
    _MMMOSAIC_BATCH_JOB=1 exec sbatch --parsable \
        --partition="$PARTITION" --job-name="$JOB_NAME" \
        --nodes=$(( (GPUS + GPUS_PER_NODE - 1) / GPUS_PER_NODE )) \
        "${TASK_ARGS[@]}" --requeue --open-mode=append \
        --output="$WORK_DIR/slurm-%j.out" \
        --signal=B:USR1@"$SIGNAL_MARGIN" ${SBATCH_ARGS} \
        "$TOOLS/slurm_train.sh" "$PARTITION" "$JOB_NAME" "$CONFIG" \
        "$WORK_DIR" "${PY_ARGS[@]}"
fi

# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    "${TASK_ARGS[@]}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$TOOLS/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
    --launcher=slurm "${PY_ARGS[@]}"
