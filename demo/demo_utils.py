"""Helpers the demos share: run tools/train.py with live progress, read
the metrics mmengine logged, print a results table."""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from mmmosaic.cli import ToolFailed  # noqa: E402

_PROGRESS = re.compile(r'Iter\((train|val)\)\s+\[\s*(\d+)/(\d+)\]')


def say(msg: str) -> None:
    print(f'[demo] {msg}', flush=True)


def train(config: str,
          work_dir: str,
          options=(),
          label: str = '',
          args=(),
          env=None) -> float:
    """Run ``tools/train.py``; show its progress lines; return seconds.

    ``options`` go to ``--cfg-options``, ``args`` before them (e.g.
    ``--resume``), ``env`` adds environment variables. If the run fails,
    raises :class:`ToolFailed` with its ``error:`` line and exit status.
    """
    cmd = [
        sys.executable,
        osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', work_dir,
        *args
    ]
    if options:
        cmd += ['--cfg-options', *options]
    say(f'{label}: {" ".join(cmd[1:])}')
    log_path = osp.join(work_dir, 'console.log')
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    reported = ''
    env = dict(
        os.environ, PYTHONWARNINGS='ignore', PYTHONUNBUFFERED='1', **env or {})
    with open(log_path, 'w') as log, subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=env) as proc:
        for line in proc.stdout:
            log.write(line)
            match = _PROGRESS.search(line)
            if match and (match.group(1) == 'val' and 'accuracy' in line
                          or 'mIoU' in line or match.group(1) == 'train'):
                metrics = line[match.end():].strip()
                keep = re.findall(
                    r'(loss\w*|accuracy/top1|mIoU|aAcc): (-?[\d.]+)', metrics)
                text = '  '.join(f'{k} {v}' for k, v in keep)
                print(
                    f'  {label} {match.group(1)} '
                    f'[{match.group(2)}/{match.group(3)}] {text} '
                    f'({time.time() - start:.0f}s)',
                    flush=True)
            elif line.startswith('error:'):
                reported = line[len('error:'):].strip().rstrip('.')
        proc.wait()
    if proc.returncode != 0:
        why = reported or f'exit status {proc.returncode}'
        raise ToolFailed(
            f'{label}: tools/train.py failed: {why} (its output is in '
            f'{log_path})', proc.returncode)
    return time.time() - start


def metric_history(work_dir: str, key: str, all_runs: bool = False):
    """(step, value) of ``key`` logged in ``work_dir``, sorted by step.

    Each run writes ``<timestamp>/vis_data/scalars.json``. By default only
    the newest run counts; with ``all_runs`` (a run resumed in the same work
    dir) every run counts, and a later run's record replaces an earlier
    one's at the same step.
    """
    runs = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    values = {}
    for path in runs if all_runs else runs[-1:]:
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if key in record:
                    values[int(record['step'])] = float(record[key])
    return sorted(values.items())


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def table(rows, headers) -> str:
    widths = [
        max(len(str(r[i])) for r in rows + [headers])
        for i in range(len(headers))
    ]

    def fmt(row):
        return '| ' + ' | '.join(str(c).ljust(w)
                                 for c, w in zip(row, widths)) + ' |'

    sep = '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    return '\n'.join([fmt(headers), sep] + [fmt(r) for r in rows])


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
        say('1/3 training the teacher on the in-domain task (supervised)')
        seconds['teacher'] = train(
            configs['teacher'], work['teacher'], label='teacher')
    else:
        say(f'1/3 reusing the teacher in {work["teacher"]} '
            '(--retrain-teacher to train it again)')
    option = [f'model.teacher_ckpt={last_checkpoint(work["teacher"])}']
    say('2/3 KD on the out-of-domain images (baseline)')
    seconds['kd_ood'] = train(
        configs['kd_ood'], work['kd_ood'], option, label='kd-ood')
    say('3/3 MosaicKD with the same out-of-domain images')
    seconds['mosaickd'] = train(
        configs['mosaickd'], work['mosaickd'], option, label='mosaickd')

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
