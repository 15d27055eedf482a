"""What the demos share: the teacher / KD on OOD / MosaicKD comparison
and its table. Running tools/train.py, reading the metrics it logged and
printing a table are in :mod:`mmmosaic.utils.runs`, which the benchmarks
use too."""
import glob
import os.path as osp
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from mmmosaic.utils.runs import metric_history, say, table, train  # noqa: E402

#: The demos' log prefix, ``[demo] ...``.
TOOL = 'demo'


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def run_comparison(configs: dict,
                   work_dir: str,
                   metric: str,
                   title: str,
                   retrain_teacher: bool = False) -> dict:
    """Teacher, then KD on OOD data and MosaicKD from it; print the table.

    ``configs`` maps ``teacher``, ``kd_ood`` and ``mosaickd`` to config
    paths; ``metric`` is the key the evaluator logs (``accuracy/top1``,
    ``mIoU``). Returns the last value of the metric for each.
    """
    start = time.time()
    work = {name: osp.join(work_dir, name) for name in configs}
    seconds = {}
    if retrain_teacher or not osp.isfile(
            osp.join(work['teacher'], 'last_checkpoint')):
        say(TOOL,
            '1/3 training the teacher on the in-domain task (supervised)')
        seconds['teacher'] = train(
            configs['teacher'], work['teacher'], tool=TOOL, label='teacher')
    else:
        say(
            TOOL, f'1/3 reusing the teacher in {work["teacher"]} '
            '(--retrain-teacher to train it again)')
    option = [f'model.teacher_ckpt={last_checkpoint(work["teacher"])}']
    say(TOOL, '2/3 KD on the out-of-domain images (baseline)')
    seconds['kd_ood'] = train(
        configs['kd_ood'], work['kd_ood'], option, tool=TOOL, label='kd-ood')
    say(TOOL, '3/3 MosaicKD with the same out-of-domain images')
    seconds['mosaickd'] = train(
        configs['mosaickd'],
        work['mosaickd'],
        option,
        tool=TOOL,
        label='mosaickd')

    names = dict(
        teacher='Teacher (in-domain, supervised)',
        kd_ood='Student, KD on OOD images',
        mosaickd='Student, MosaicKD with OOD images')
    rows, results = [], {}
    for key, name in names.items():
        history = metric_history(work[key], metric)
        if not history:
            raise RuntimeError(f'no {metric} was logged in {work[key]}; see '
                               'its console.log')
        last, best = history[-1][1], max(v for _, v in history)
        results[key] = last
        took = f'{seconds[key]:.0f}s' if key in seconds else 'reused'
        rows.append([
            name, f'{last:.2f}', f'{best:.2f}', took,
            last_checkpoint(work[key])
        ])
    print()
    print(title)
    print(table(rows, ['model', 'last', 'best', 'time', 'checkpoint']))
    print(f'\nLogs and checkpoints: {work_dir}/<model>/ '
          '(console.log, <timestamp>/vis_data/scalars.json)')
    mosaics = sorted(glob.glob(osp.join(work['mosaickd'], 'mosaics', '*.png')))
    if mosaics:
        print(f'Generated mosaics, one row per teacher class: {mosaics[-1]}')
    verdict = ('above'
               if results['mosaickd'] > results['kd_ood'] else 'NOT above')
    print(f'MosaicKD is {verdict} KD on OOD data by '
          f'{results["mosaickd"] - results["kd_ood"]:+.2f} points and reaches '
          f'{100 * results["mosaickd"] / results["teacher"]:.1f}% of the '
          f'teacher. Total {time.time() - start:.0f}s.')
    return results
