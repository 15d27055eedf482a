"""Train a MosaicKD distillation (or a teacher) from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options key=value ...] [--launcher none|pytorch|slurm|mpi]
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


@tool_main
def main():
    args = parse_args()
    check_config_file(args.config)
    from mmmosaic.runtime import (check_checkpoint_fits, load_config,
                                  prepare_runtime, resume_hint)
    cfg = load_config(args.config, args.cfg_options)
    prepare_runtime(
        cfg,
        config_path=args.config,
        work_dir=args.work_dir,
        launcher=args.launcher,
        amp=args.amp,
        resume=args.resume)
    note(work_dir=cfg.work_dir)
    from mmmosaic.dist import finish_distributed
    from mmmosaic.engine import ensure_guarantee_hooks
    ensure_guarantee_hooks(cfg)  # checkpoint/resume/SIGTERM hooks, always
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    if cfg.get('resume') and cfg.get('load_from'):
        check_checkpoint_fits(
            runner.model,
            cfg.load_from,
            resume=True,
            what='--resume checkpoint')
    note(runner=runner, on_failure=lambda: resume_hint(cfg.work_dir))
    runner.train()
    finish_distributed()
    return stopped_by_signal(runner)


def stopped_by_signal(runner) -> int:
    """Say where the checkpoint of a run stopped by Ctrl-C or SIGTERM
    is; the exit status: 130 (the shell's for Ctrl-C) after Ctrl-C, else
    0 (a job stopped by SIGTERM is requeued as a success)."""
    import signal

    from mmmosaic.cli import INTERRUPTED
    from mmmosaic.engine import PreemptionHook
    hook = next((h for h in runner.hooks if isinstance(h, PreemptionHook)),
                None)
    if hook is None or not hook.saved:
        return 0
    ctrl_c = hook.received == signal.SIGINT
    print(
        f'{"Ctrl-C" if ctrl_c else signal.Signals(hook.received).name}: '
        f'stopped after iteration {hook.stopped_at} and saved {hook.saved}; '
        'run the same command with --resume to continue.',
        file=sys.stderr)
    return INTERRUPTED if ctrl_c else 0


if __name__ == '__main__':
    sys.exit(main())
