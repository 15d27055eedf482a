"""What a benchmark report measures on finished runs: per-class scores of
the final checkpoint, how the teacher sees the OOD images and a
generator's images, and statistics over seeds.

The measures that evaluate a model are cached in the run's folder (or in
the file named) with a signature of what they were measured on, and
measured again only when it changes.
"""
import json
import os.path as osp
import statistics
from typing import Dict, Optional, Sequence

from mmmosaic.runtime import build_model
from mmmosaic.utils.runs import say
from .runs import cores, load_config_with_options, read_run_record

#: The file in a run's folder that caches its per-class scores.
PER_CLASS_FILE = 'per_class.json'


def cached_result(path: str, signature: dict):
    """The result cached in ``path`` if it was measured with
    ``signature``, else None."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        cached = json.load(f)
    return cached['coverage'] if cached.get('signature') == signature else None


def cache_result(path: str, signature: dict, result: dict) -> None:
    """Cache ``result``, measured with ``signature``, in ``path``
    (:func:`cached_result` reads it)."""
    with open(path, 'w') as f:
        json.dump(dict(signature=signature, coverage=result), f, indent=2)


def _final_checkpoint(run_dir: str, iters: int):
    """The last checkpoint of a run and the cache signature it gives."""
    ckpt = osp.join(run_dir, f'iter_{iters}.pth')
    return ckpt, dict(checkpoint_mtime=osp.getmtime(ckpt))


def per_class_accuracy_of_run(config: str,
                              options: Sequence[str],
                              run_dir: str,
                              iters: int,
                              student: bool = True,
                              tool: str = 'quality') -> Dict[str, float]:
    """Per-class test accuracy (%) of a run's final student (or, with
    ``student=False``, of the supervised model it trained), measured on the
    config's validation data (cached in ``run_dir/per_class.json``).

    ``config`` and ``options`` are the run's, ``iters`` its length;
    ``tool`` names the calling script in the log.
    """
    from mmmosaic.analysis import per_class_accuracy

    def measure(model, dataloader, classes, cfg):
        return per_class_accuracy(model, dataloader, classes)

    return _measured(lambda: load_config_with_options(config, options),
                     run_dir, iters, student, tool, 'accuracy', measure)


def _measured(get_cfg, run_dir: str, iters: int, student: bool, tool: str,
              what: str, measure) -> Dict[str, float]:
    """The per-class ``what`` of a run's final checkpoint: cached in
    ``run_dir/per_class.json``, or ``measure(model, dataloader, classes,
    cfg)`` on the validation data of the config ``get_cfg()`` loads."""
    ckpt, signature = _final_checkpoint(run_dir, iters)
    path = osp.join(run_dir, PER_CLASS_FILE)
    cached = cached_result(path, signature)
    if cached is not None:
        return cached
    import torch
    from mmengine.runner import Runner
    say(tool, f'measuring the per-class {what} of {run_dir}')
    torch.set_num_threads(cores())
    cfg = get_cfg()
    model = build_model(cfg, ckpt)
    if student:
        model = model.student
    dataloader = Runner.build_dataloader(cfg.val_dataloader)
    classes = dataloader.dataset.metainfo['classes']
    result = measure(model, dataloader, classes, cfg)
    cache_result(path, signature, result)
    return result


def _is_iou(evaluator) -> bool:
    """Whether a config's ``val_evaluator`` is mmseg's IoUMetric alone."""
    return isinstance(evaluator, dict) and str(evaluator.get(
        'type', '')).split('.')[-1] == 'IoUMetric'


def per_class_iou_of_run(config: str,
                         options: Sequence[str],
                         run_dir: str,
                         iters: int,
                         student: bool = True,
                         tool: str = 'quality') -> Optional[Dict[str, float]]:
    """Per-class val IoU (%) of a run's final student (or, with
    ``student=False``, of the segmentor it trained), from the results of
    the config's evaluator (cached in ``run_dir/per_class.json``).

    The figures are those of mmseg's per-class table at the run's last
    evaluation (:func:`mmmosaic.analysis.per_class_iou`).

    Returns:
        dict: ``{class: IoU}``, or None for a config whose evaluator is
        not mmseg's ``IoUMetric`` (a classification run).
    """
    ckpt, signature = _final_checkpoint(run_dir, iters)
    cached = cached_result(osp.join(run_dir, PER_CLASS_FILE), signature)
    if cached is not None:
        return cached
    return _measure_iou(
        load_config_with_options(config, options), run_dir, iters, student,
        tool)


def _measure_iou(cfg, run_dir: str, iters: int, student: bool,
                 tool: str) -> Optional[Dict[str, float]]:
    """:func:`per_class_iou_of_run` of a loaded config, cached or not."""
    if not _is_iou(cfg.get('val_evaluator')):
        return None
    from mmmosaic.analysis import per_class_iou

    def measure(model, dataloader, classes, cfg):
        return per_class_iou(model, dataloader, cfg.val_evaluator, classes)

    return _measured(lambda: cfg, run_dir, iters, student, tool, 'IoU',
                     measure)


def mean_per_class_iou(run_dirs: Sequence[str],
                       tool: str = 'quality') -> Optional[Dict[str, float]]:
    """Per-class IoU (:func:`per_class_iou_of_run`) of finished student
    runs averaged over runs, each measured with the config, options and
    length of its own record; None for classification runs."""
    tables = []
    for run_dir in run_dirs:
        record = read_run_record(run_dir)
        cfg = load_config_with_options(record['config'], record['options'])
        table = _measure_iou(cfg, run_dir, int(cfg.train_cfg.max_iters), True,
                             tool)
        if table is None:
            return None
        tables.append(table)
    return mean_of_tables(tables)


def mean_of_tables(tables: Sequence[Optional[dict]]) -> Optional[dict]:
    """``{class: score}`` tables averaged class by class, or None unless
    every table is there."""
    if not all(tables):
        return None
    return {
        name: statistics.fmean(t[name] for t in tables)
        for name in tables[0]
    }


def stats(values: Sequence[float]) -> dict:
    """Mean, standard deviation (0 for one value), min, max and the
    values themselves."""
    return dict(
        mean=statistics.fmean(values),
        std=statistics.stdev(values) if len(values) > 1 else 0.0,
        min=min(values),
        max=max(values),
        values=values)


def mosaic_coverage(config: str,
                    options: Sequence[str],
                    run_dir: str,
                    iters: int,
                    classes: Sequence[str],
                    tool: str = 'quality') -> dict:
    """How the teacher sees the images of a run's final generator (cached
    in ``run_dir/mosaic_coverage.json``); see
    :func:`mmmosaic.analysis.synthetic_coverage`."""
    ckpt, signature = _final_checkpoint(run_dir, iters)
    path = osp.join(run_dir, 'mosaic_coverage.json')
    cached = cached_result(path, signature)
    if cached is not None:
        return cached
    import torch

    from mmmosaic.analysis import synthetic_coverage
    say(tool, 'measuring the teacher\'s classes on the generator of '
        f'{run_dir}')
    cfg = load_config_with_options(config, options)
    model = build_model(cfg, ckpt)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        coverage = synthetic_coverage(model, num_images=512)
    coverage['classes'] = list(classes)
    coverage['dense'] = 'decode_head' in cfg.model.teacher
    cache_result(path, signature, coverage)
    return coverage


def ood_coverage(config: str,
                 options: Sequence[str],
                 path: str,
                 max_images: int,
                 tool: str = 'quality') -> dict:
    """How the teacher sees the OOD images of a distillation config with
    options (cached in ``path``); see
    :func:`mmmosaic.analysis.teacher_coverage`. ``options`` must name the
    teacher's checkpoint (``model.teacher_ckpt=...``)."""
    signature = dict(config=config, options=list(options))
    teacher_ckpt = next(
        o.split('=', 1)[1] for o in options
        if o.startswith('model.teacher_ckpt='))
    signature['teacher_mtime'] = osp.getmtime(teacher_ckpt)
    # Each image's random crop seeded by its position (RealViews), so the
    # figure is the same at every call, and the same as the OOD report's.
    signature['views'] = 'seeded by position'
    cached = cached_result(path, signature)
    if cached is not None:
        return cached
    import torch

    from mmmosaic.analysis import RealViews, teacher_coverage
    from mmmosaic.registry import DATASETS
    torch.set_num_threads(cores())
    cfg = load_config_with_options(config, options)
    say(tool, 'measuring the teacher\'s class coverage of the OOD images')
    model = build_model(cfg)
    ood = DATASETS.build(cfg.train_dataloader.dataset)
    classes = DATASETS.build(cfg.val_dataloader.dataset).metainfo['classes']
    coverage = teacher_coverage(
        model, RealViews(ood, range(len(ood))), max_images=max_images)
    coverage['classes'] = list(classes)
    coverage['dense'] = 'decode_head' in cfg.model.teacher
    cache_result(path, signature, coverage)
    return coverage
