"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options key=value ...] [--launcher none|pytorch|slurm|mpi]

For a MosaicKD config the student is evaluated; the teacher's weights come
from the checkpoint, so ``model.teacher_ckpt`` need not be set.
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
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results go')
    add_common_args(parser)
    return parse_tool_args(parser)


def main():
    args = parse_args()
    try:
        cfg = load_config(args.config, args.cfg_options)
        if not osp.isfile(args.checkpoint):
            raise MosaicError(
                f'Checkpoint {args.checkpoint!r} does not exist; give the '
                'path of a .pth file written by tools/train.py.')
        if cfg.model.get('type') in ('MosaicKD', 'mmmosaic.MosaicKD'):
            # The checkpoint carries the teacher; nothing to load before.
            cfg.model.teacher_ckpt = None
            cfg.model.allow_random_teacher = True
        prepare_runtime(
            cfg,
            config_path=args.config,
            work_dir=args.work_dir,
            launcher=args.launcher,
            check_data=('test_dataloader', ))
        cfg.load_from = args.checkpoint
        from mmengine.runner import Runner

        from mmmosaic.dist import finish_distributed
        runner = Runner.from_cfg(cfg)
        runner.test()
        finish_distributed()
    except MosaicError as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
