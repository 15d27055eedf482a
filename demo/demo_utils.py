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
_PROGRESS = re.compile(r'Iter\((train|val)\)\s+\[\s*(\d+)/(\d+)\]')


def say(msg: str) -> None:
    print(f'[demo] {msg}', flush=True)


def train(config: str, work_dir: str, options=(), label: str = '') -> float:
    """Run ``tools/train.py``; show its progress lines; return seconds."""
    cmd = [
        sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
        '--work-dir', work_dir
    ]
    if options:
        cmd += ['--cfg-options', *options]
    say(f'{label}: {" ".join(cmd[1:])}')
    log_path = osp.join(work_dir, 'console.log')
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()
    env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONUNBUFFERED='1')
    with open(log_path, 'w') as log, subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, cwd=ROOT, env=env) as proc:
        for line in proc.stdout:
            log.write(line)
            match = _PROGRESS.search(line)
            if match and (match.group(1) == 'val' and 'accuracy' in line
                          or 'mIoU' in line or match.group(1) == 'train'):
                metrics = line[match.end():].strip()
                keep = re.findall(
                    r'(loss\w*|accuracy/top1|mIoU|aAcc): (-?[\d.]+)', metrics)
                text = '  '.join(f'{k} {v}' for k, v in keep)
                print(f'  {label} {match.group(1)} '
                      f'[{match.group(2)}/{match.group(3)}] {text} '
                      f'({time.time() - start:.0f}s)', flush=True)
            elif line.startswith('error:'):
                print(line.rstrip(), flush=True)
        proc.wait()
    if proc.returncode != 0:
        say(f'{label} failed (exit {proc.returncode}); see {log_path}')
        sys.exit(proc.returncode)
    return time.time() - start


def metric_history(work_dir: str, key: str):
    """(step, value) of ``key`` in the newest run's vis_data/scalars.json."""
    runs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not runs:
        return []
    history = []
    with open(runs[-1]) as f:
        for line in f:
            record = json.loads(line)
            if key in record:
                history.append((record.get('step'), float(record[key])))
    return history


def last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def table(rows, headers) -> str:
    widths = [
        max(len(str(r[i])) for r in rows + [headers])
        for i in range(len(headers))
    ]

    def fmt(row):
        return '| ' + ' | '.join(
            str(c).ljust(w) for c, w in zip(row, widths)) + ' |'

    sep = '|' + '|'.join('-' * (w + 2) for w in widths) + '|'
    return '\n'.join([fmt(headers), sep] + [fmt(r) for r in rows])
