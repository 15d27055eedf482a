"""Write the student of a MosaicKD checkpoint as a stand-alone model.

    python tools/model_converters/extract_student.py CONFIG CHECKPOINT OUT_DIR

OUT_DIR receives ``student.pth`` (``{'state_dict', 'meta'}``, loadable with
``weights_only=True``) and ``student.py``, a config of the student alone
(model, test data and metric), so that mmpretrain's or mmseg's own APIs load
it like any model-zoo entry, e.g. ``mmpretrain.apis.init_model(
'OUT_DIR/student.py', 'OUT_DIR/student.pth')``.
"""
import os
import os.path as osp
import sys

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

# What imports torch is imported after the arguments are read (a quick
# --help).
from mmmosaic.cli import ArgumentParser, check_config_file, tool_main
from mmmosaic.errors import MosaicError
# isort: on


@tool_main
def main():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the MosaicKD config trained with')
    parser.add_argument('checkpoint', help='checkpoint from tools/train.py')
    parser.add_argument('out_dir', help='folder for student.pth/student.py')
    args = parser.parse_args()
    check_config_file(args.config)
    from mmmosaic.export import export_student
    from mmmosaic.runtime import load_config
    cfg = load_config(args.config)
    if not isinstance(cfg.get('model'), dict) or 'student' not in cfg.model:
        raise MosaicError(
            f'Config {args.config!r} has no model.student; give the MosaicKD '
            'config the checkpoint was trained with.')
    if osp.exists(args.out_dir) and not osp.isdir(args.out_dir):
        raise MosaicError(
            f'OUT_DIR {args.out_dir!r} is a file; give a folder for '
            'student.pth and student.py.')
    os.makedirs(args.out_dir, exist_ok=True)
    ckpt, config = export_student(cfg, args.checkpoint, args.out_dir)
    print(f'student weights: {ckpt}\nstudent config:  {config}')


if __name__ == '__main__':
    sys.exit(main())
