"""Write the student of a MosaicKD checkpoint as a stand-alone model.

    python tools/model_converters/extract_student.py CONFIG CHECKPOINT OUT_DIR

OUT_DIR receives ``student.pth`` (``{'state_dict', 'meta'}``, loadable with
``weights_only=True``) and ``student.py``, a config of the student alone
(model, test data and metric), so that mmpretrain's or mmseg's own APIs load
it like any model-zoo entry, e.g. ``mmpretrain.apis.init_model(
'OUT_DIR/student.py', 'OUT_DIR/student.pth')``.
"""
import argparse
import os
import os.path as osp
import sys

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmmosaic.apis import MosaicError, load_config
from mmmosaic.export import export_student
# isort: on


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='the MosaicKD config trained with')
    parser.add_argument('checkpoint', help='checkpoint from tools/train.py')
    parser.add_argument('out_dir', help='folder for student.pth/student.py')
    args = parser.parse_args()
    try:
        cfg = load_config(args.config)
        os.makedirs(args.out_dir, exist_ok=True)
        ckpt, config = export_student(cfg, args.checkpoint, args.out_dir)
    except MosaicError as exc:
        print(f'error: {exc}', file=sys.stderr)
        sys.exit(2)
    print(f'student weights: {ckpt}\nstudent config:  {config}')


if __name__ == '__main__':
    main()
