"""The benchmark runner: what ``benchmarks/quality.py``,
``benchmarks/ablations.py`` and ``benchmarks/speed.py`` share.

- :mod:`.settings`: the quality benchmark's settings as data, the option
  templates that point their configs at data folders, and the checks of
  those folders;
- :mod:`.runs`: a config with options, its length and budget; a run
  (:class:`Run`) trained once, then reused or resumed, under a signature
  that refuses to mix runs of other settings; :func:`run_all`, which trains
  a list of runs several at a time, and :func:`finished_runs`, which joins
  finished runs of earlier calls;
- :mod:`.scores`: per-class scores of a run's final checkpoint, the
  teacher's view of OOD and generated images, statistics over seeds;
- :mod:`.report`: the quality and ablation reports as typed results
  built from their runs; the quality report's Markdown, curves and
  grids;
- :mod:`.profile`: the speed benchmark's per-phase timer and multiply-add
  counts, and the train loop it times a Runner's iterations with.
"""
from .report import (NEVER_BEHIND_FROM, AblationReport, AblationResult,
                     MethodResult, QualityReport, TeacherResult,
                     ablation_result, at_or_above_kd, copy_mosaic,
                     coverage_markdown, curves_of, machine, markdown_report,
                     method_result, never_behind_from, per_class_markdown,
                     plot_curves, quality_baseline, quality_report, reach_kd,
                     reach_markdown, seed_rows, vs_kd, wall_minutes,
                     write_report, ylabel)
from .runs import (KEPT_TEACHERS, Run, budget, check_signatures, cores,
                   finished, finished_runs, finished_under, keep_teacher,
                   kept_teacher_folder, load_config_with_options, make_run,
                   max_iters, read_run_record, read_seconds, record_signature,
                   run_all, run_dir, seeds_in, signature, student_batch,
                   train_or_reuse, use_kept_teacher)
from .scores import (cache_result, cached_result, mean_of_tables,
                     mean_per_class_iou, mosaic_coverage, ood_coverage,
                     per_class_accuracy_of_run, per_class_iou_of_run, stats)
from .settings import (ACCURACY, DATA_FREE, DEFAULT_METHODS, METHODS, NAMES,
                       NO_GENERATOR, OPTION_TEMPLATES, SETTINGS, check_data,
                       check_prepared_data, method_options, methods_of)

__all__ = [
    'QualityReport', 'MethodResult', 'TeacherResult', 'AblationReport',
    'AblationResult', 'SETTINGS', 'METHODS', 'DEFAULT_METHODS', 'DATA_FREE',
    'NO_GENERATOR', 'NAMES', 'ACCURACY', 'cores', 'OPTION_TEMPLATES',
    'method_options', 'methods_of', 'check_data', 'check_prepared_data',
    'load_config_with_options', 'max_iters', 'budget', 'student_batch',
    'run_dir', 'finished', 'finished_under', 'signature', 'check_signatures',
    'record_signature', 'read_seconds', 'train_or_reuse', 'cached_result',
    'cache_result', 'per_class_accuracy_of_run', 'per_class_iou_of_run',
    'read_run_record', 'mean_per_class_iou', 'mean_of_tables', 'stats',
    'mosaic_coverage', 'ood_coverage', 'plot_curves', 'copy_mosaic', 'machine',
    'reach_kd', 'reach_markdown', 'coverage_markdown', 'per_class_markdown',
    'markdown_report', 'seed_rows', 'at_or_above_kd', 'NEVER_BEHIND_FROM',
    'never_behind_from', 'KEPT_TEACHERS', 'keep_teacher',
    'kept_teacher_folder', 'use_kept_teacher', 'Run', 'make_run', 'run_all',
    'finished_runs', 'seeds_in', 'curves_of', 'method_result',
    'quality_report', 'wall_minutes', 'write_report', 'ylabel',
    'quality_baseline', 'vs_kd', 'ablation_result'
]
