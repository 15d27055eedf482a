"""MosaicKD segmentation demo: digit canvases, Fashion-MNIST canvases as OOD.

In-domain task: 48x48 canvases with 1-3 real MNIST digits, per-pixel labels
(background + 10 digit classes). Out-of-domain images: the same kind of
canvases made of Fashion-MNIST items, without labels. A small mmseg UNet
teacher is trained on the digit canvases; a 2.5x smaller UNet student is
distilled with KD on the OOD canvases and with MosaicKD (same student
updates); the table gives mIoU on the in-domain test canvases.

Run with ``make demo-seg`` or ``python demo/canvas_segmentation_demo.py``.
"""
import os.path as osp
import sys

from demo_utils import ROOT, TOOL, run_comparison

from mmmosaic.cli import ArgumentParser, note, output_dir, tool_main
from mmmosaic.errors import MosaicError
from mmmosaic.utils.runs import say

CONFIGS = osp.join(ROOT, 'configs', 'demo')


@tool_main
def main():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--work-dir', default=osp.join('work_dirs', 'demo_seg'))
    parser.add_argument('--retrain-teacher', action='store_true')
    args = parser.parse_args()
    note(work_dir=output_dir(args.work_dir, '--work-dir'))
    for folder in ('mnist', 'fashion_mnist'):
        if not osp.isdir(osp.join(ROOT, 'data', folder)):
            raise MosaicError(
                f'data/{folder} is missing; run `make data` first.')
    sys.path.insert(0, osp.join(ROOT, 'tools', 'dataset_converters'))
    from mnist_canvas import build_canvas_dataset
    say(TOOL, 'building the canvases (seconds; reused when present)')
    build_canvas_dataset(
        osp.join(ROOT, 'data', 'mnist_canvas'),
        mnist_root=osp.join(ROOT, 'data', 'mnist'),
        fashion_root=osp.join(ROOT, 'data', 'fashion_mnist'))
    run_comparison(
        dict(
            teacher=osp.join(CONFIGS, 'seg_teacher_mnist_canvas.py'),
            kd_ood=osp.join(CONFIGS, 'seg_kd_ood_mnist_canvas.py'),
            mosaickd=osp.join(CONFIGS,
                              'seg_mosaickd_mnist_canvas.py')), args.work_dir,
        'mIoU', 'Digit-canvas test mIoU (%), 11 classes', args.retrain_teacher)


if __name__ == '__main__':
    sys.exit(main())
