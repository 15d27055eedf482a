"""MosaicKD demo: an MNIST teacher distilled with Fashion-MNIST images only.

1. trains a small CNN teacher on MNIST (with labels, as its owner would);
2. distils a 4x smaller student with plain KD on Fashion-MNIST images;
3. distils the same student with MosaicKD from the same Fashion-MNIST
   images and the generator's mosaics, with the same number of student
   updates and images per update: no MNIST image and no label is used;
4. prints teacher / KD-on-OOD / MosaicKD accuracy on the MNIST test set.

Run with ``make demo`` (which fetches the data first) or
``python demo/mnist_fashion_demo.py [--work-dir DIR] [--retrain-teacher]``.
"""
import os.path as osp
import sys

from demo_utils import ROOT, run_comparison

from mmmosaic.cli import ArgumentParser, note, output_dir, tool_main
from mmmosaic.errors import MosaicError

CONFIGS = osp.join(ROOT, 'configs', 'demo')


@tool_main
def main():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument('--retrain-teacher', action='store_true')
    args = parser.parse_args()
    note(work_dir=output_dir(args.work_dir, '--work-dir'))
    for folder in ('mnist', 'fashion_mnist'):
        if not osp.isdir(osp.join(ROOT, 'data', folder)):
            raise MosaicError(
                f'data/{folder} is missing; run `make data` (or python '
                'tools/dataset_converters/fetch_mnist.py) first.')
    run_comparison(
        dict(
            teacher=osp.join(CONFIGS, 'teacher_mnist.py'),
            kd_ood=osp.join(CONFIGS, 'kd_ood_mnist_fashion.py'),
            mosaickd=osp.join(CONFIGS, 'mosaickd_mnist_fashion.py')),
        args.work_dir, 'accuracy/top1',
        'MNIST test accuracy (%), 10,000 images', args.retrain_teacher)


if __name__ == '__main__':
    sys.exit(main())
