"""Benchmark runs: a config with options, trained once and then reused.

A benchmark run lives in a folder of its own and is described by its
signature, ``benchmark_run.json``: the config (relative to the repository)
and the ``--cfg-options`` it was trained with. :func:`train_or_reuse`
reuses a finished run, resumes an interrupted one and trains a missing one;
:func:`check_signatures` refuses, before anything trains, a folder that
holds a run made with other settings. :func:`load_config_with_options`,
:func:`max_iters`, :func:`budget` and :func:`student_batch` read what a
config with options will do.

:class:`Run` is one training run of a benchmark and :func:`run_all` trains
a list of them, several at a time, each reused if finished and resumed if
interrupted; :func:`finished_runs` gathers the finished runs of earlier
calls (same signature) for a report.
"""
import concurrent.futures
import glob
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from mmengine.config import Config

from mmmosaic.cli import parse_cfg_options
from mmmosaic.errors import MosaicError
from mmmosaic.models import batch_rule
from mmmosaic.runtime import load_config
from mmmosaic.utils.runs import (REPO_ROOT, metric_history, say, train,
                                 write_seconds)

#: The file in a run's folder that holds its signature.
SIGNATURE_FILE = 'benchmark_run.json'
#: The file in a run's folder that holds its training seconds.
SECONDS_FILE = 'seconds.txt'


def load_config_with_options(config: str, options: Sequence[str]) -> Config:
    """``config`` (a path relative to the repository) with ``key=value``
    options, checked as ``tools/train.py`` checks its ``--cfg-options``."""
    return load_config(osp.join(REPO_ROOT, config), parse_cfg_options(options))


def max_iters(config: str, options: Sequence[str]) -> int:
    """The training length (``train_cfg.max_iters``) of ``config`` with
    ``options``."""
    return int(load_config_with_options(config, options).train_cfg.max_iters)


def budget(config: str, options: Sequence[str]) -> dict:
    """Student updates and images per update of a distillation config.

    Returns:
        dict: ``outer_iterations``, ``student_updates``,
        ``synthetic_per_update`` and ``ood_per_update`` (0 for a config
        whose loader gives no OOD images).
    """
    cfg = load_config_with_options(config, options)
    rule = batch_rule(cfg)
    return dict(
        outer_iterations=int(cfg.train_cfg.max_iters),
        student_updates=int(cfg.train_cfg.max_iters) * rule.steps,
        synthetic_per_update=rule.synthetic,
        ood_per_update=rule.chunk)


def student_batch(cfg: Config) -> Tuple[int, int, int]:
    """MosaicKD's B synthetic images, k student steps and N OOD images per
    step of a loaded config (``train_dataloader.batch_size`` is
    B + k x N)."""
    rule = batch_rule(cfg, fill=False)
    return rule.synthetic, rule.steps, rule.ood


def run_dir(work_dir: str,
            setting: dict,
            name: str,
            seed: Optional[int] = None) -> str:
    """Where the teacher (``seed=None``) or a method's seed is trained.

    A run a setting shares with another (its ``shared`` entry: the same
    config, options and seed, e.g. one teacher for several CIFAR-10
    settings) lives in that setting's work dir, next to ``work_dir``, and
    is trained once.
    """
    owner = setting.get('shared', {}).get(name)
    if owner:
        work_dir = osp.join(osp.dirname(work_dir), owner)
    if seed is None:
        return osp.join(work_dir, name)
    return osp.join(work_dir, name, f'seed{seed}')


def finished(work_dir: str, iters: int, metric: str) -> bool:
    """Whether ``work_dir`` holds the last checkpoint of a run of ``iters``
    iterations and ``metric`` evaluated at its last iteration."""
    return osp.isfile(osp.join(work_dir, f'iter_{iters}.pth')) and any(
        step == iters
        for step, _ in metric_history(work_dir, metric, all_runs=True))


def signature(config: str, options: Sequence[str]) -> dict:
    """The signature of a run of ``config`` with ``options``, as
    ``benchmark_run.json`` holds it."""
    return dict(config=config, options=list(options))


def check_signatures(
        runs: Iterable[Tuple[str, str, Sequence[str]]],
        remedy: str = 'pass --fresh or another --work-dir') -> None:
    """Refuse to reuse or resume a run made with other settings.

    ``runs`` holds (work dir, config, options) of every run a call may
    train; checked before the first one starts, so that a refusal comes at
    once, not after hours of training of the others. ``remedy`` is what
    the message tells the user to do (the calling tool's options).

    Raises:
        MosaicError: A folder holds a run of another config or options.
    """
    for work_dir, config, options in runs:
        if not osp.isfile(osp.join(work_dir, SIGNATURE_FILE)):
            continue
        theirs = read_run_record(work_dir)
        if theirs != signature(config, options):
            raise MosaicError(
                f'{work_dir} holds a run of {theirs["config"]} with options '
                f'{theirs["options"]}, not this one; {remedy}.')


def read_run_record(run_dir: str) -> dict:
    """The signature a run's folder holds (``config`` and ``options``, see
    :func:`check_signatures`)."""
    with open(osp.join(run_dir, SIGNATURE_FILE)) as f:
        return json.load(f)


def finished_under(work_dir: str, config: str, options: Sequence[str],
                   iters: int, metric: str) -> Tuple[bool, str]:
    """Whether ``work_dir`` holds a finished run of ``config`` with
    ``options`` (its signature and its last checkpoint and evaluation),
    and if not, why, in a few words (for a caller that gathers runs of
    earlier calls and leaves the others out)."""
    if not osp.isfile(osp.join(work_dir, SIGNATURE_FILE)):
        return False, 'no signature'
    theirs = read_run_record(work_dir)
    if theirs != signature(config, options):
        return False, f'made with other options ({theirs["options"]})'
    if not finished(work_dir, iters, metric):
        return False, 'not finished'
    return True, ''


def record_signature(work_dir: str, config: str,
                     options: Sequence[str]) -> None:
    """Write the signature of a run (:func:`check_signatures` reads it);
    refuse a folder that holds another run, should a caller not have
    checked it up front."""
    check_signatures([(work_dir, config, options)])
    path = osp.join(work_dir, SIGNATURE_FILE)
    if not osp.isfile(path):
        os.makedirs(work_dir, exist_ok=True)
        with open(path, 'w') as f:
            json.dump(signature(config, options), f, indent=2)


def read_seconds(work_dir: str) -> float:
    """The training seconds recorded in a run's folder (0 if none)."""
    path = osp.join(work_dir, SECONDS_FILE)
    if not osp.isfile(path):
        return 0.0
    with open(path) as f:
        return float(f.read())


def train_or_reuse(config: str, work_dir: str, options: Sequence[str],
                   label: str, iters: int, threads: int, metric: str,
                   tool: str) -> Tuple[float, bool]:
    """Train a run unless it is finished; resume an interrupted one.

    The caller has checked the signature (:func:`check_signatures`); this
    records it. The run trains through ``tools/train.py`` with ``threads``
    OpenMP/MKL threads; ``label`` names it and ``tool`` the calling script
    in the log. The seconds of every call that trained it add up in the
    run's ``seconds.txt``, which is kept current at every progress line,
    so a call killed midway still counts.

    Returns:
        tuple: The run's training seconds and whether this call trained.
    """
    record_signature(work_dir, config, options)
    if finished(work_dir, iters, metric):
        say(tool, f'{label}: reusing the finished run in {work_dir}')
        return read_seconds(work_dir), False
    args: List[str] = []
    if glob.glob(osp.join(work_dir, 'iter_*.pth')):
        args.append('--resume')
        say(tool, f'{label}: resuming the interrupted run in {work_dir}')
    before = read_seconds(work_dir)
    path = osp.join(work_dir, SECONDS_FILE)
    seconds = before + train(
        osp.join(REPO_ROOT, config),
        work_dir,
        options,
        tool=tool,
        label=label,
        args=args,
        env=dict(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads)),
        seconds_file=path,
        seconds_before=before)
    write_seconds(path, seconds)
    return seconds, True


@dataclass(frozen=True)
class Run:
    """One training run of a benchmark: ``name`` (the teacher, a method or
    an ablation) of ``seed`` (None for the teacher), ``config`` (relative
    to the repository) with ``options``, trained in ``run_dir`` for
    ``max_iters`` iterations."""
    name: str
    seed: Optional[int]
    config: str
    options: Tuple[str, ...]
    run_dir: str
    max_iters: int

    @property
    def label(self) -> str:
        """How the log names the run (``mosaickd/seed0``)."""
        if self.seed is None:
            return self.name
        return f'{self.name}/seed{self.seed}'

    def curve(self, metric: str) -> List[Tuple[int, float]]:
        """(iteration, score) of every evaluation of ``metric``."""
        return metric_history(self.run_dir, metric, all_runs=True)

    def seconds(self) -> float:
        """Its training seconds (:func:`read_seconds`)."""
        return read_seconds(self.run_dir)


def make_run(name: str, seed: Optional[int], config: str,
             options: Sequence[str], run_dir: str) -> Run:
    """A :class:`Run` whose length is its config's with ``options``."""
    return Run(name, seed, config, tuple(options), run_dir,
               max_iters(config, options))


def cores() -> int:
    """The CPU cores this process may run on (its affinity, so that
    ``taskset -c 0 python benchmarks/quality.py ...`` trains with one
    thread beside another call pinned to the other core)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_all(runs: Sequence[Run],
            metric: str,
            tool: str,
            jobs: int = 1,
            threads: Optional[int] = None,
            remedy: str = 'pass --fresh or another --work-dir') -> bool:
    """Train every run of ``runs`` that is not finished, ``jobs`` at a
    time, in the order given; finished runs are reused and interrupted
    ones resumed (:func:`train_or_reuse`).

    Every signature is checked before the first run starts
    (:func:`check_signatures`, whose message gives ``remedy``). Each run
    trains with ``threads`` OpenMP threads (default: the cores shared by
    the jobs). After a run fails, queued runs do not start; running ones
    finish (they keep their checkpoints either way).

    Returns:
        bool: Whether any run trained.
    """
    check_signatures([(r.run_dir, r.config, r.options) for r in runs], remedy)
    threads = threads or max(1, cores() // max(1, jobs))
    trained = False
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = [
            pool.submit(train_or_reuse, r.config, r.run_dir, r.options,
                        r.label, r.max_iters, threads, metric, tool)
            for r in runs
        ]
        for future in concurrent.futures.as_completed(futures):
            try:
                trained |= future.result()[1]
            except BaseException:
                for other in futures:
                    other.cancel()
                raise
    return trained


def seeds_in(folder: str) -> List[int]:
    """The seeds of the ``seed<N>`` folders in ``folder``."""
    if not osp.isdir(folder):
        return []
    return sorted(
        int(entry[4:]) for entry in os.listdir(folder)
        if entry.startswith('seed') and entry[4:].isdigit())


def finished_runs(candidates: Iterable[Run], metric: str,
                  tool: str) -> List[Run]:
    """The runs of ``candidates`` whose folder holds a finished run with
    their signature (e.g. runs of earlier calls that join a report); each
    other one whose folder holds a run is named in the log, with why."""
    found = []
    for run in candidates:
        ok, why = finished_under(run.run_dir, run.config, run.options,
                                 run.max_iters, metric)
        if ok:
            say(
                tool, f'{run.label}: the finished run in {run.run_dir} joins '
                'the report')
            found.append(run)
        elif osp.isdir(run.run_dir):
            say(tool, f'{run.label}: not in the report ({why}): '
                f'{run.run_dir}')
    return found


#: Teachers of the benchmark settings kept in the repository, one folder
#: per teacher config (``benchmarks/teachers/<config name>/``), so that
#: every table is against the same teachers on any machine.
KEPT_TEACHERS = osp.join(REPO_ROOT, 'benchmarks', 'teachers')
KEPT_RECORD = 'kept.json'


def kept_teacher_folder(config: str) -> str:
    """Where the repository keeps the teacher of ``config``."""
    return osp.join(KEPT_TEACHERS, osp.splitext(osp.basename(config))[0])


def _sha256(path: str) -> str:
    import hashlib
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def keep_teacher(run_dir: str, config: str, options: Sequence[str], iters: int,
                 command: str, folder: str) -> dict:
    """Keep a finished teacher run in ``folder``: its final weights (the
    checkpoint's ``state_dict`` and ``meta`` only), its logged scalars and
    training seconds, and a record of the config, the options that do not
    name a data folder (``options``), the command that trained it and the
    checkpoint's sha256."""
    import shutil

    import torch
    os.makedirs(folder, exist_ok=True)
    ckpt = torch.load(
        osp.join(run_dir, f'iter_{iters}.pth'),
        map_location='cpu',
        weights_only=False)
    weights = osp.join(folder, f'iter_{iters}.pth')
    torch.save(
        dict(state_dict=ckpt['state_dict'], meta=ckpt.get('meta', {})),
        weights)
    logs = sorted(
        glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json')))
    for i, path in enumerate(logs):
        target = osp.join(folder, f'log{i}', 'vis_data', 'scalars.json')
        os.makedirs(osp.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)
    record = dict(
        config=config,
        options=list(options),
        iters=iters,
        command=command,
        sha256=_sha256(weights),
        seconds=read_seconds(run_dir))
    with open(osp.join(folder, KEPT_RECORD), 'w') as f:
        json.dump(record, f, indent=2)
    return record


def use_kept_teacher(config: str, options: Sequence[str],
                     local_options: Sequence[str], run_dir: str, iters: int,
                     tool: str) -> bool:
    """Put the kept teacher of ``config`` into ``run_dir`` if the
    repository has one made with ``options`` (those that name no data
    folder) and ``run_dir`` holds no finished run; say so. The checkpoint
    must match its recorded sha256. ``local_options`` are the run's whole
    options, which its signature records. Returns whether it did."""
    import shutil
    folder = kept_teacher_folder(config)
    path = osp.join(folder, KEPT_RECORD)
    if not osp.isfile(path):
        return False
    with open(path) as f:
        record = json.load(f)
    if (record['config'], record['options'],
            record['iters']) != (config, list(options), iters):
        say(
            tool, f'teacher: the kept teacher in {folder} was made with '
            f'other options ({record["options"]}), so it trains its own')
        return False
    weights = osp.join(folder, f'iter_{iters}.pth')
    if _sha256(weights) != record['sha256']:
        raise MosaicError(
            f'{weights} does not match the sha256 in {path}; restore it with '
            'git checkout, or delete the folder to train the teacher.')
    record_signature(run_dir, config, local_options)
    shutil.copyfile(weights, osp.join(run_dir, f'iter_{iters}.pth'))
    for log in sorted(glob.glob(osp.join(folder, 'log*'))):
        shutil.copytree(log, osp.join(run_dir, osp.basename(log)))
    write_seconds(osp.join(run_dir, SECONDS_FILE), record['seconds'])
    say(
        tool, f'teacher: using the kept teacher {weights} (sha256 '
        f'{record["sha256"][:12]}..., trained by `{record["command"]}`)')
    return True
