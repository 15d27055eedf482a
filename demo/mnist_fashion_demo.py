"""MosaicKD demo: an MNIST teacher distilled with Fashion-MNIST images only.

1. trains a small CNN teacher on MNIST (with labels, as its owner would);
2. distils a 4x smaller student with MosaicKD, from Fashion-MNIST images
   and the generator's mosaics: no MNIST image and no label is used;
3. distils the same student with plain KD on the same Fashion-MNIST images,
   with the same number of student updates and images per update;
4. prints teacher / KD-on-OOD / MosaicKD accuracy on the MNIST test set.

Run with ``make demo`` (which fetches the data first) or
``python demo/mnist_fashion_demo.py [--work-dir DIR] [--retrain-teacher]``.
"""
import argparse
import glob
import os.path as osp
import sys
import time

from demo_utils import (ROOT, last_checkpoint, metric_history, say, table,
                        train)

CONFIGS = osp.join(ROOT, 'configs', 'demo')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument(
        '--retrain-teacher',
        action='store_true',
        help='train the teacher even if the work dir already holds one')
    args = parser.parse_args()
    for folder in ('mnist', 'fashion_mnist'):
        if not osp.isdir(osp.join(ROOT, 'data', folder)):
            say(f'data/{folder} is missing; run `make data` (or python '
                'tools/dataset_converters/fetch_mnist.py) first.')
            sys.exit(2)
    start = time.time()
    work = {
        name: osp.join(args.work_dir, name)
        for name in ('teacher', 'kd_ood', 'mosaickd')
    }
    seconds = {}
    if args.retrain_teacher or not osp.isfile(
            osp.join(work['teacher'], 'last_checkpoint')):
        say('1/3 training the MNIST teacher (supervised, ~900 iterations)')
        seconds['teacher'] = train(
            osp.join(CONFIGS, 'teacher_mnist.py'), work['teacher'],
            label='teacher')
    else:
        say(f'1/3 reusing the teacher in {work["teacher"]} '
            '(--retrain-teacher to train it again)')
    teacher_ckpt = last_checkpoint(work['teacher'])
    option = [f'model.teacher_ckpt={teacher_ckpt}']

    say('2/3 KD on Fashion-MNIST images (baseline)')
    seconds['kd_ood'] = train(
        osp.join(CONFIGS, 'kd_ood_mnist_fashion.py'), work['kd_ood'],
        option, label='kd-ood')
    say('3/3 MosaicKD with Fashion-MNIST images')
    seconds['mosaickd'] = train(
        osp.join(CONFIGS, 'mosaickd_mnist_fashion.py'), work['mosaickd'],
        option, label='mosaickd')

    rows = []
    names = dict(
        teacher='Teacher (MNIST, supervised)',
        kd_ood='Student, KD on Fashion-MNIST',
        mosaickd='Student, MosaicKD with Fashion-MNIST')
    results = {}
    for key, name in names.items():
        history = metric_history(work[key], 'accuracy/top1')
        if not history:
            say(f'no accuracy was logged in {work[key]}; see its logs.')
            sys.exit(1)
        last, best = history[-1][1], max(v for _, v in history)
        results[key] = last
        took = f'{seconds[key]:.0f}s' if key in seconds else 'reused'
        rows.append([name, f'{last:.2f}', f'{best:.2f}', took,
                     last_checkpoint(work[key])])
    print()
    print('MNIST test accuracy (%), 10,000 images')
    print(table(rows, ['model', 'last', 'best', 'time', 'checkpoint']))
    print(f'\nLogs and checkpoints: {args.work_dir}/<model>/ '
          f'(console.log, <timestamp>/vis_data/scalars.json)')
    mosaics = sorted(glob.glob(osp.join(work['mosaickd'], 'mosaics', '*.png')))
    if mosaics:
        print(f'Generated mosaics, one row per teacher class: {mosaics[-1]}')
    verdict = ('above' if results['mosaickd'] > results['kd_ood'] else
               'NOT above')
    print(f'MosaicKD is {verdict} KD on OOD data by '
          f'{results["mosaickd"] - results["kd_ood"]:+.2f} points and reaches '
          f'{100 * results["mosaickd"] / results["teacher"]:.1f}% of the '
          f'teacher. Total {time.time() - start:.0f}s.')


if __name__ == '__main__':
    main()
