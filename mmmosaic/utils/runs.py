"""Training runs started from a script: what the demos (``demo/``) and the
benchmarks (``benchmarks/``) share.

:func:`train` runs ``tools/train.py`` in a subprocess and shows its progress
lines, :func:`metric_history` reads back the metric mmengine logged,
:func:`table` prints results as a Markdown table. Every line a script says
(:func:`say`) starts with the script's name in brackets (``[demo]``,
``[quality]``), so interleaved logs tell who wrote what.
"""
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time
from typing import Optional

from mmmosaic.cli import ToolFailed
from mmmosaic.errors import MosaicError

#: The repository this package lives in (``tools/train.py`` is run from it).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_PROGRESS = re.compile(r'Iter\((train|val)\)\s+\[\s*(\d+)/(\d+)\]')


def say(tool: str, message: str) -> None:
    """Print ``[tool] message`` at once (``tool`` names the script)."""
    print(f'[{tool}] {message}', flush=True)


def train(config: str,
          work_dir: str,
          options=(),
          *,
          tool: str,
          label: str = '',
          args=(),
          env=None,
          seconds_file: Optional[str] = None,
          seconds_before: float = 0.0) -> float:
    """Run ``tools/train.py``; show its progress lines; return seconds.

    ``options`` go to ``--cfg-options``, ``args`` before them (e.g.
    ``--resume``), ``env`` adds environment variables; ``tool`` names the
    calling script in the line that shows the command. With
    ``seconds_file``, ``seconds_before`` plus the seconds so far are
    written there at every progress line, so a run killed midway keeps the
    time it trained. If the run fails, raises :class:`ToolFailed` with its
    ``error:`` line and exit status.
    """
    train_py = osp.join(REPO_ROOT, 'tools', 'train.py')
    if not osp.isfile(train_py):
        raise MosaicError(
            f'{train_py!r} does not exist: the demos and benchmarks run from '
            'a clone of the repository installed with `pip install -e .`.')
    cmd = [sys.executable, train_py, config, '--work-dir', work_dir, *args]
    if options:
        cmd += ['--cfg-options', *options]
    say(tool, f'{label}: {" ".join(cmd[1:])}')
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
            cwd=REPO_ROOT,
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
                if seconds_file:
                    write_seconds(seconds_file,
                                  seconds_before + time.time() - start)
            elif line.startswith('error:'):
                reported = line[len('error:'):].strip().rstrip('.')
        proc.wait()
    if proc.returncode != 0:
        why = reported or f'exit status {proc.returncode}'
        raise ToolFailed(
            f'{label}: tools/train.py failed: {why} (its output is in '
            f'{log_path})', proc.returncode)
    return time.time() - start


def write_seconds(path: str, seconds: float) -> None:
    """Write ``seconds`` to ``path`` at once (a reader never sees half a
    file)."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        f.write(f'{seconds:.1f}\n')
    os.replace(tmp, path)


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


def train_seconds(work_dir: str):
    """(step, seconds of training up to it) for the runs in ``work_dir``
    (a resumed run counts every stretch), from the seconds per iteration
    mmengine logs with each training record (its ``time``, averaged over
    the logging window). Evaluations and start-up are not counted: the
    figure is the training's own time, comparable between methods run the
    same way."""
    per_iter = {}
    for path in sorted(
            glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                # Training records carry 'iter'; evaluations log a 'time'
                # of their own, which is not training time.
                if 'iter' in record and 'time' in record:
                    per_iter[int(record['step'])] = float(record['time'])
    total, last, out = 0.0, 0, []
    for step in sorted(per_iter):
        total += per_iter[step] * (step - last)
        last = step
        out.append((step, total))
    return out


def table(rows, headers) -> str:
    """``rows`` under ``headers`` as a Markdown table, columns padded."""
    widths = [
        max(len(str(r[i])) for r in rows + [headers])
        for i in range(len(headers))
    ]

    def fmt(row):
        return '| ' + ' | '.join(str(c).ljust(w)
                                 for c, w in zip(row, widths)) + ' |'

    sep = '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    return '\n'.join([fmt(headers), sep] + [fmt(r) for r in rows])
