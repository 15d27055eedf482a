"""Evaluate a checkpoint on a config's test set.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--cfg-options key=value ...] [--launcher none|pytorch|slurm|mpi]

For a MosaicKD config the student is evaluated; the teacher's weights come
from the checkpoint, so ``model.teacher_ckpt`` need not be set.
"""
import os.path as osp
import sys

# isort: off
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# mmmosaic first: its mmcv-lite compat must precede any mmseg import. What
# imports torch is imported after the arguments are read (a quick --help).
from mmmosaic.cli import (ArgumentParser, add_common_args, check_config_file,
                          note, parse_tool_args, tool_main)
# isort: on


def parse_args():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and results go')
    add_common_args(parser)
    return parse_tool_args(parser)


@tool_main
def main():
    args = parse_args()
    check_config_file(args.config)
    from mmmosaic.runtime import (check_checkpoint_fits, is_game_config,
                                  load_config, prepare_runtime)
    from mmmosaic.utils import check_checkpoint_file
    cfg = load_config(args.config, args.cfg_options)
    check_checkpoint_file(args.checkpoint, 'Checkpoint',
                          'give a .pth file written by tools/train.py')
    if is_game_config(cfg.get('model') or {}):
        # The checkpoint carries the teacher; nothing to load before.
        cfg.model.teacher_ckpt = None
        cfg.model.allow_random_teacher = True
        leave_out_untrained_players(cfg, args.checkpoint)
    prepare_runtime(
        cfg,
        config_path=args.config,
        work_dir=args.work_dir,
        launcher=args.launcher,
        check_data=('test_dataloader', ))
    note(work_dir=cfg.work_dir)
    cfg.load_from = args.checkpoint
    from mmengine.runner import Runner

    from mmmosaic.dist import finish_distributed
    runner = Runner.from_cfg(cfg)
    # mmengine loads non-strictly: weights of another model would be
    # evaluated half-loaded without a word.
    check_checkpoint_fits(runner.model, args.checkpoint)
    note(runner=runner)
    runner.test()
    finish_distributed()


def leave_out_untrained_players(cfg, path: str) -> None:
    """Leave out the generator or discriminator ``path`` holds no weights
    of: the run was trained without it (e.g. with the OOD report's
    ``dfq_ood`` keys, ``model.discriminator=None``), and the student, which
    is what is evaluated, does not need it. The checkpoint is then checked
    strictly against what is built."""
    from mmmosaic.utils import load_checkpoint_safely, state_dict_of
    keys = state_dict_of(load_checkpoint_safely(path), path)
    for player in ('generator', 'discriminator'):
        if cfg.model.get(player) and not any(
                k.startswith(f'{player}.') for k in keys):
            cfg.model[player] = None


if __name__ == '__main__':
    sys.exit(main())
