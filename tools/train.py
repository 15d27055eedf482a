"""Train a MosaicKD distillation (or a teacher) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options key=value ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import os.path as osp
import sys

# isort: off
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# mmmosaic first: its mmcv-lite compat must precede any mmseg import.
from mmmosaic.apis import (MosaicError, add_common_args, load_config,
                           parse_tool_args, prepare_runtime)
# isort: on


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='mixed precision (GPU only)')
    add_common_args(parser)
    return parse_tool_args(parser)


def main():
    args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options)
        prepare_runtime(
            cfg,
            config_path=args.config,
            work_dir=args.work_dir,
            launcher=args.launcher,
            amp=args.amp,
            resume=args.resume)
        from mmmosaic.dist import ensure_preemption_hook, finish_distributed
        ensure_preemption_hook(cfg)  # SIGTERM: checkpoint, stop cleanly
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
        runner.train()
        finish_distributed()
    except MosaicError as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
