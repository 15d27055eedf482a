"""Report what a teacher sees in out-of-domain images, before distilling.

    python tools/analysis/ood_report.py CONFIG [--cfg-options KEY=VALUE ...]
        [--out DIR] [--max-images N] [--subset-size N] [--examples K]
        [--batch-size B] [--device cpu|cuda]

CONFIG is a MosaicKD or KD-on-OOD config: its frozen teacher (loaded from
``model.teacher_ckpt``, weights only) runs once over the ``real`` view of
its OOD images (``train_dataloader.dataset``, an ``OODDataset``). DIR
(default ``work_dirs/ood_report/<config name>``) receives:

* ``report.md`` / ``report.json``: the verdict, the class coverage (share
  of images, or pixels, per top class; effective numbers of classes), the
  confidence, the paper's high-entropy subset and how it changes coverage,
  how far the images shift the statistics of the teacher's BatchNorm
  layers, and the recommended recipe with its config keys;
* ``coverage.png``: the share of each class, all images and the subset;
* ``entropy.png``: the histogram of the teacher's per-image entropy;
* ``examples_NN.png``: for each class, the images the teacher is surest
  about (segmentation: the image and its predicted mask).

``--max-images N`` looks at N images spread evenly over the set.
"""
import json
import math
import os.path as osp
import sys
import time

# isort: off
sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

# mmmosaic first: its mmcv-lite compat must precede any mmseg import. What
# imports torch is imported after the arguments are read (a quick --help).
from mmmosaic.cli import (ArgumentParser, add_cfg_options, check_config_file,
                          note, output_dir, tool_main)
from mmmosaic.errors import MosaicError
# isort: on

#: The paper kept as many OOD images as the in-domain training set has
#: (CIFAR-100: 50,000) when it took a subset of ImageNet or Places365.
PAPER_SUBSET_SIZE = 50000
#: Classes per examples_NN.png, so that each figure stays readable.
CLASSES_PER_FIGURE = 16


def parse_args(argv=None):
    parser = ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='The verdict\'s thresholds are named constants in '
        'mmmosaic/analysis/ood_report.py, with the reason for each.')
    parser.add_argument('config', help='a MosaicKD or KD-on-OOD config')
    add_cfg_options(parser)
    parser.add_argument(
        '--out', help='output folder (default work_dirs/ood_report/<config>)')
    parser.add_argument(
        '--max-images',
        type=int,
        help='look at this many OOD images, one from each of N equal '
        'stretches of the set (default: all)')
    parser.add_argument(
        '--subset-size',
        type=int,
        default=PAPER_SUBSET_SIZE,
        help='size of the high-entropy subset, as tools/select_ood_subset.py '
        '--num; the paper uses the size of the in-domain training set '
        f'(default {PAPER_SUBSET_SIZE:,}, CIFAR-100\'s); scaled down with '
        '--max-images')
    parser.add_argument(
        '--examples',
        type=int,
        default=8,
        help='images shown for each class (default 8)')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=256,
        help='images per teacher pass (default 256)')
    parser.add_argument(
        '--device', help='cpu or cuda (default: cuda when available)')
    args = parser.parse_args(argv)
    for flag in ('max_images', 'subset_size', 'examples', 'batch_size'):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f'--{flag.replace("_", "-")} must be at least 1, '
                         f'got {value}')
    return args


def _device(name):
    import torch
    if name is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise MosaicError(f'--device {name} needs a CUDA GPU and none is '
                          'available; use --device cpu.')
    if not name.startswith(('cpu', 'cuda')):
        raise MosaicError(f'--device {name!r} is not cpu or cuda; give one '
                          'of them.')
    return name


def _class_metainfo(cfg, model, num_classes: int):
    """Class names and palette: the teacher checkpoint's, else those the
    config's evaluation dataset declares (without reading its data: the
    in-domain images need not be here), else numbers and no palette."""
    from mmmosaic.runtime import task_classes
    meta = getattr(model, 'dataset_meta', None) or task_classes(
        cfg, num_classes)
    if meta and len(meta['classes']) == num_classes:
        return list(meta['classes']), meta.get('palette')
    return [str(i) for i in range(num_classes)], None


# ------------------------------------------------------------ the pass
def _teacher_pass(model, views, stats_of, batch_size: int):
    """Run the teacher over ``views`` (one pass), feeding the statistics
    made by ``stats_of(num_classes)``; returns them and the
    :class:`~mmmosaic.analysis.BatchNormShift` of the pass."""
    from mmmosaic.analysis import BatchNormShift, teacher_logit_batches
    total = len(views)
    start = last = time.time()
    stats, done = None, 0
    print(f'[ood_report] teacher pass over {total} images', flush=True)
    with BatchNormShift(model.teacher) as shift:
        for logits in teacher_logit_batches(model, views, batch_size):
            stats = _add(stats, stats_of, logits, done, views)
            done += len(logits)
            now = time.time()
            if now - last >= 10 or done == total:
                last = now
                left = (total - done) * (now - start) / done
                print(
                    f'[ood_report] {done}/{total} images, '
                    f'{now - start:.0f} s' +
                    (f', about {left:.0f} s left' if done < total else ''),
                    flush=True)
    if stats is None or stats.num_images == 0:
        raise MosaicError('None of the OOD images could be read; check '
                          'train_dataloader.dataset.')
    return stats, shift


def _add(stats, stats_of, logits, done: int, views):
    """Feed one batch of logits (items ``done`` on) to ``stats``, made on
    the first batch; returns it."""
    if stats is None:
        stats = stats_of(logits.shape[1])
    items = range(done, done + len(logits))
    good = [i for i, j in enumerate(items) if j not in views.bad]
    if good:
        stats.update(logits[good], [items[i] for i in good])
    return stats


# ------------------------------------------------------------ pictures
def _plt():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _coverage_figure(path, classes, coverage, subset, units):
    plt = _plt()
    import numpy as np
    c = len(classes)
    y = np.arange(c)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.28 * c))
    share = np.array(coverage['top_class_share']) * 100
    if subset is None:
        ax.barh(y, share, color='tab:blue', label='all images')
    else:
        sub = np.array(subset['coverage']['top_class_share']) * 100
        ax.barh(y - 0.2, share, 0.4, color='tab:blue', label='all images')
        ax.barh(
            y + 0.2,
            sub,
            0.4,
            color='tab:orange',
            label=f'high-entropy subset ({subset["coverage"]["num_images"]})')
    ax.axvline(100 / c, color='grey', ls='--', lw=1, label='uniform')
    ax.set_yticks(y, classes if c <= 60 else [''] * c)
    ax.invert_yaxis()
    ax.set_xlabel(f'share of {units} whose top class it is (%)')
    ax.set_title(f'effective classes {coverage["effective_classes"]:.2f}, '
                 f'top classes {coverage["effective_top_classes"]:.2f} of {c}')
    ax.legend(loc='best', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _entropy_figure(path, entropies, num_classes, coverage, subset):
    from mmmosaic.analysis import ood_report as measures
    plt = _plt()
    top = math.log(num_classes)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    counts, edges, _ = ax.hist(
        entropies, bins=40, range=(0, top), color='tab:blue')
    ax.axvline(top, color='grey', ls='--', lw=1)
    ax.text(top, max(counts) * 0.95, ' uniform ', ha='right', fontsize=8)
    if subset is not None:
        ax.axvline(subset['min_entropy'], color='tab:orange', lw=1.5)
        ax.text(
            subset['min_entropy'],
            max(counts) * 0.8,
            ' subset: from here up',
            color='tab:orange',
            fontsize=8)
    ax.set_xlabel('entropy of the teacher\'s prediction (nats'
                  f'{", pixel-averaged" if coverage["dense"] else ""})')
    ax.set_ylabel('images')
    ax.set_title(f'confident (top probability >= {measures.CONFIDENT_PROB:.1f}'
                 f'{", pixel-averaged" if coverage["dense"] else ""}): '
                 f'{coverage["confident_share"]:.1%} of images')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return counts.tolist(), edges.tolist()


def _to_rgb(inputs, preprocessor):
    """A preprocessed image ``[C, H, W]`` back to uint8 RGB ``[H, W, 3]``."""
    import numpy as np
    x = inputs.detach().float().cpu()
    if getattr(preprocessor, '_enable_normalize', False):
        x = x * preprocessor.std.cpu() + preprocessor.mean.cpu()
    x = x.clamp(0, 255).round().byte().numpy().transpose(1, 2, 0)
    if x.shape[2] == 1:
        return np.repeat(x, 3, axis=2)
    converted = any(
        getattr(preprocessor, name, False)
        for name in ('to_rgb', 'channel_conversion', '_channel_conversion'))
    # OpenMMLab loads images BGR; unconverted, they are still BGR here.
    return np.ascontiguousarray(x[:, :, :3] if converted else x[:, :, 2::-1])


def _example_cells(model, views, items, batch_size):
    """Reload ``items`` and return ``{item: (rgb, mask or None)}``."""
    import torch
    import torch.nn.functional as F
    from mmengine.dataset import pseudo_collate

    cells = {}
    model.eval()
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        batch = pseudo_collate([views.view(j) for j in chunk])
        with torch.no_grad():
            inputs = model.data_preprocessor(batch, False)['inputs']
            logits = model.teacher_logits(inputs)
        masks = None
        if logits.dim() == 4:
            masks = F.interpolate(
                logits.float(), size=inputs.shape[2:],
                mode='nearest').argmax(1).cpu().numpy()
        for k, j in enumerate(chunk):
            cells[j] = (_to_rgb(inputs[k], model.data_preprocessor),
                        None if masks is None else masks[k])
    return cells


def _examples_figures(out, classes, examples, cells, coverage, palette):
    """examples_NN.png: one row per class, its best images left to right
    (segmentation: image | predicted mask). Returns the file names."""
    import cv2
    import numpy as np

    from mmmosaic.analysis import ood_report as measures
    from mmmosaic.datasets import class_palette
    plt = _plt()
    shapes = [rgb.shape[:2] for rgb, _ in cells.values()]
    h = max(s[0] for s in shapes) if shapes else 16
    w = max(s[1] for s in shapes) if shapes else 16
    dense = coverage['dense']
    pad = max(2, h // 16)
    cell_w = 2 * w + pad if dense else w
    per_row = max([len(e) for e in examples] + [1])
    colors = class_palette(len(classes), palette)
    shares = coverage['top_class_share']
    names = []
    for first in range(0, len(classes), CLASSES_PER_FIGURE):
        rows = list(
            range(first, min(first + CLASSES_PER_FIGURE, len(classes))))
        canvas = np.full((len(rows) * (h + pad), per_row * (cell_w + pad), 3),
                         255, np.uint8)
        for r, c in enumerate(rows):
            y0 = r * (h + pad)
            for k, (item, _) in enumerate(examples[c]):
                rgb, mask = cells[item]
                x0 = k * (cell_w + pad)
                canvas[y0:y0 + h, x0:x0 + w] = cv2.resize(
                    rgb, (w, h), interpolation=cv2.INTER_NEAREST)
                if mask is not None:
                    mask = cv2.resize(
                        mask.astype(np.uint8), (w, h),
                        interpolation=cv2.INTER_NEAREST)
                    canvas[y0:y0 + h, x0 + w + pad:x0 + cell_w] = colors[mask]
        # Inches per canvas pixel: rows about 0.8 in high, at most 15 in
        # of images across.
        inch = min(0.8 / h, 15 / canvas.shape[1])
        left, top, bottom = 1.9, 0.35, 0.7 if dense else 0.1
        width = canvas.shape[1] * inch
        height = canvas.shape[0] * inch
        fig = plt.figure(figsize=(left + width + 0.1, top + height + bottom))
        ax = fig.add_axes([
            left / fig.get_figwidth(), bottom / fig.get_figheight(),
            width / fig.get_figwidth(), height / fig.get_figheight()
        ])
        ax.imshow(canvas, interpolation='nearest')
        for r, c in enumerate(rows):
            y0 = r * (h + pad)
            for k, (_, score) in enumerate(examples[c]):
                ax.text(
                    k * (cell_w + pad),
                    y0,
                    f'{score:.1%}' if dense else f'{score:.2f}',
                    fontsize=7,
                    va='top',
                    color='yellow',
                    bbox=dict(facecolor='black', alpha=0.6, pad=0.6, lw=0))
            if not examples[c]:
                ax.text(
                    0,
                    y0 + h / 2,
                    'no pixel predicted with probability >= '
                    f'{measures.CONFIDENT_PROB}' if dense else 'no image',
                    fontsize=8,
                    va='center',
                    color='grey')
        ax.set_yticks([r * (h + pad) + h / 2 for r in range(len(rows))],
                      [f'{classes[c]} ({shares[c]:.1%})' for c in rows],
                      fontsize=8)
        ax.set_xticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        what = ('image | teacher\'s mask, share of pixels confidently of the '
                'class' if dense else 'teacher\'s probability of the class')
        ax.set_title(f'Surest images per class ({what})', fontsize=9)
        if dense:
            from matplotlib.patches import Patch
            ax.legend(
                handles=[
                    Patch(color=colors[c] / 255, label=classes[c])
                    for c in range(len(classes))
                ],
                loc='upper center',
                bbox_to_anchor=(0.5, 0),
                ncol=min(len(classes), 8),
                fontsize=7,
                frameon=False)
        name = f'examples_{first // CLASSES_PER_FIGURE + 1:02d}.png'
        fig.savefig(osp.join(out, name), dpi=110)
        plt.close(fig)
        names.append(name)
    return names


# ------------------------------------------------------------ the text
def _pct(x):
    return f'{100 * x:.1f} %'


def _markdown(report) -> str:
    from mmmosaic.analysis import ood_report as measures
    cov = report['coverage']
    sub = report['subset']
    classes = report['classes']
    units = report['units']
    c = len(classes)
    img = report['images']
    rare = f'{measures.RARE_SHARE:.0%}'
    sure = measures.CONFIDENT_PROB
    options = ' '.join(report['cfg_options'])
    sampled = (' (one from each of as many equal stretches)'
               if img['used'] < img['total'] else '')
    skipped = (f', {img["skipped"]} unreadable and left out'
               if img['skipped'] else '')
    lines = [
        '# What the teacher sees in the OOD images', '',
        f'- config: `{report["config"]}`' +
        (f' with `{options}`' if options else ''),
        f'- teacher: `{report["teacher_ckpt"]}` ({report["task"]}, {c} '
        'classes)',
        f'- OOD images: {img["used"]:,} of {img["total"]:,}{sampled}{skipped}',
        f'- one pass of the teacher on {report["device"]}: '
        f'{report["seconds"]:.0f} s', '', '## Verdict', ''
    ]
    lines += [f'- {s}' for s in report['verdict']['sentences']]
    lines.append(f'- {_shift_sentence(report["bn_shift"])}')
    lines += [
        '', 'Coverage = effective number of top classes / classes = '
        f'{cov["effective_top_classes"]:.2f} / {c} = '
        f'{report["verdict"]["ratio"]:.2f}: narrow below '
        f'{measures.NARROW_COVERAGE}, broad from {measures.BROAD_COVERAGE}; '
        f'a class is rare under {rare} of the {units}. (Bounds set on four '
        'benchmark settings, see mmmosaic/analysis/ood_report.py.)', ''
    ]
    if report['bn_shift']['value'] is not None:
        lines += [
            'BatchNorm shift = the mean, over the teacher\'s BatchNorm layers '
            'and their channels, of the KL divergence of the Gaussian of '
            'these images\' features from that of the running statistics: '
            'about 0 on images like the teacher\'s training images. The '
            f'bound {report["bn_shift"]["far"]:g} was placed between four '
            'benchmark settings\' figures (mmmosaic/analysis/recipes.py). '
            'Per layer: ' +
            ', '.join(f'{v:.3f}'
                      for v in report['bn_shift']['per_layer']) + '.', ''
        ]
    lines += ['## Recommended recipe', '']
    rec = report['recommendation']
    lines += [
        f'**{rec["name"]}**: {rec["summary"]}; {rec["why"]}.', '',
        rec['keys_text'], ''
    ]
    if rec['also']:
        lines += [f'Run **{rec["also"]}** too: {rec["also_text"]}', '']
    lines += [
        '## Coverage', '',
        f'- effective number of classes (exp of the entropy of the mean '
        f'prediction): **{cov["effective_classes"]:.2f}** of {c}',
        f'- effective number of top classes (exp of the entropy of the '
        f'share of {units} per top class): '
        f'**{cov["effective_top_classes"]:.2f}** of {c}',
        f'- never the top class: {", ".join(report["never"]) or "none"}; '
        f'under {rare}: {", ".join(report["rare"]) or "none"}', '',
        '![coverage](coverage.png)', ''
    ]
    head = f'| class | share of {units} (top class) | mean probability |'
    rule = '|---|---|---|'
    if sub is not None:
        head += ' share in the subset |'
        rule += '---|'
    lines += [head, rule]
    for k, name in enumerate(classes):
        row = (f'| {name} | {_pct(cov["top_class_share"][k])} | '
               f'{_pct(cov["mean_prob"][k])} |')
        if sub is not None:
            row += f' {_pct(sub["coverage"]["top_class_share"][k])} |'
        lines.append(row)
    per = ' (pixel-averaged)' if cov['dense'] else ''
    lines += [
        '', '## Confidence', '',
        f'- mean entropy of the teacher\'s prediction{per}: '
        f'{cov["mean_entropy"]:.3f} nats (uniform: {math.log(c):.3f})',
        f'- mean top probability: {cov["mean_confidence"]:.3f}',
        f'- confident images (top probability{per} >= {sure}): '
        f'{_pct(cov["confident_share"])}', '', '![entropy](entropy.png)', '',
        '## The high-entropy subset', ''
    ]
    s = report['subset_size']
    if sub is None:
        lines.append(
            f'`tools/select_ood_subset.py --num {s["requested"]}` would keep '
            f'every one of the {img["total"]:,} OOD images, so the subset is '
            'the whole set here (the paper chose as many images as the '
            'in-domain training set has; give yours with --subset-size).')
    else:
        scaled = (f' ({s["requested"]:,} of all {img["total"]:,} images, '
                  f'scaled to the {img["used"]:,} looked at)'
                  if s['used'] != s['requested'] else '')
        sc = sub['coverage']
        lines += [
            f'The {s["used"]:,} images of highest entropy{scaled}, what '
            '`tools/select_ood_subset.py` keeps (each image needs entropy >= '
            f'{sub["min_entropy"]:.3f} nats):', '',
            '| measure | all images | subset |', '|---|---|---|',
            f'| effective classes | {cov["effective_classes"]:.2f} | '
            f'{sc["effective_classes"]:.2f} |',
            f'| effective top classes | {cov["effective_top_classes"]:.2f} | '
            f'{sc["effective_top_classes"]:.2f} |',
            f'| mean top probability | {cov["mean_confidence"]:.3f} | '
            f'{sc["mean_confidence"]:.3f} |', '',
            f'A change by a factor of {measures.SUBSET_CHANGE} or more counts '
            'as broader or narrower in the verdict.'
        ]
    lines += ['', '## Images the teacher is surest about, per class', '']
    if cov['dense']:
        lines.append('Each cell: the image as the teacher sees it, then its '
                     'predicted mask; ranked by the share of the image\'s '
                     f'pixels predicted as the class with probability >= '
                     f'{sure} (the number on the cell).')
    else:
        lines.append('Ranked by the teacher\'s probability of the class (the '
                     'number on the image). A class the images rarely show '
                     'has low numbers: those are the nearest the images '
                     'come to it.')
    lines.append('')
    lines += [f'![examples]({name})' for name in report['files']['examples']]
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------ main
@tool_main
def main(argv=None):
    args = parse_args(argv)
    check_config_file(args.config)
    from mmmosaic.analysis import ood_report as measures
    from mmmosaic.runtime import (check_data_paths, check_teacher_ckpt,
                                  load_config)
    cfg = load_config(args.config, args.cfg_options)
    measures.check_ood_config(cfg, args.config)
    check_data_paths(cfg, ('train_dataloader', ))
    check_teacher_ckpt(cfg)
    device = _device(args.device)
    name = osp.splitext(osp.basename(args.config))[0]
    out = output_dir(
        args.out or osp.join('work_dirs', 'ood_report', name), '--out')
    note(work_dir=out)

    from mmmosaic.registry import DATASETS
    from mmmosaic.runtime import build_model
    model = build_model(cfg, device=device)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    positions = measures.spread_sample(len(dataset), args.max_images)
    views = measures.RealViews(dataset, positions)

    used = len(positions)
    subset_used = args.subset_size
    if used < len(dataset):
        subset_used = max(1, round(args.subset_size * used / len(dataset)))
    measure_subset = subset_used < used

    def stats_of(num_classes):
        return measures.OODTeacherStats(
            num_classes,
            per_class=args.examples,
            subset_size=subset_used if measure_subset else None)

    start = time.time()
    stats, shift = _teacher_pass(model, views, stats_of, args.batch_size)
    seconds = time.time() - start
    from mmmosaic.analysis.recipes import FAR_BN_SHIFT
    bn_shift = dict(
        layers=len(shift.layers),
        value=shift.value(),
        per_layer=shift.per_layer(),
        far=FAR_BN_SHIFT)
    measure_subset = measure_subset and subset_used < stats.num_images

    coverage = stats.coverage()
    c = coverage['num_classes']
    classes, palette = _class_metainfo(cfg, model, c)
    subset = stats.subset(subset_used) if measure_subset else None
    said = measures.verdict(coverage, classes, subset)
    recommendation = _recommendation(cfg, said['kind'], bn_shift, args.config,
                                     len(dataset) / coverage['num_classes'])
    seldom = measures.rare_classes(coverage, classes)
    units = 'pixels' if coverage['dense'] else 'images'

    print('[ood_report] drawing the figures', flush=True)
    examples = stats.examples()
    wanted = sorted({i for per in examples for i, _ in per})
    cells = _example_cells(model, views, wanted, args.batch_size)
    _coverage_figure(
        osp.join(out, 'coverage.png'), classes, coverage, subset, units)
    _, entropies = stats.item_entropies()
    hist_counts, hist_edges = _entropy_figure(
        osp.join(out, 'entropy.png'), entropies.numpy(), c, coverage, subset)
    figures = _examples_figures(out, classes, examples, cells, coverage,
                                palette)

    report = dict(
        config=args.config,
        cfg_options=[f'{k}={v}' for k, v in (args.cfg_options or {}).items()],
        teacher_ckpt=cfg.model.get('teacher_ckpt'),
        task='segmentation' if coverage['dense'] else 'classification',
        units=units,
        device=device,
        seconds=seconds,
        classes=classes,
        images=dict(
            total=len(dataset),
            used=used,
            measured=stats.num_images,
            skipped=len(views.bad)),
        coverage=coverage,
        never=seldom['never'],
        rare=seldom['rare'],
        entropy_histogram=dict(edges=hist_edges, counts=hist_counts),
        subset_size=dict(requested=args.subset_size, used=subset_used),
        subset=None if subset is None else dict(
            min_entropy=subset['min_entropy'], coverage=subset['coverage']),
        examples=[
            dict(
                name=classes[k],
                images=[
                    dict(
                        source_index=views.source_index(j),
                        file=views.source_name(j),
                        score=s) for j, s in per
                ]) for k, per in enumerate(examples)
        ],
        verdict=said,
        bn_shift=bn_shift,
        recommendation=recommendation,
        files=dict(
            report='report.md',
            coverage='coverage.png',
            entropy='entropy.png',
            examples=figures))
    with open(osp.join(out, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1)
    with open(osp.join(out, 'report.md'), 'w') as f:
        f.write(_markdown(report))
    print(
        f'[ood_report] effective classes {coverage["effective_classes"]:.2f}'
        f', effective top classes {coverage["effective_top_classes"]:.2f} of '
        f'{c}; confident images {_pct(coverage["confident_share"])}')
    if subset is not None:
        print(f'[ood_report] high-entropy subset of {subset_used}: effective '
              'top classes '
              f'{subset["coverage"]["effective_top_classes"]:.2f}')
    for sentence in said['sentences']:
        print(f'[ood_report] {sentence}')
    print(f'[ood_report] {_shift_sentence(bn_shift)}')
    print(f'[ood_report] recommended recipe: {recommendation["name"]} '
          f'({recommendation["summary"]}): {recommendation["why"]}.')
    print(f'[ood_report] {recommendation["keys_text"]}')
    if recommendation['also']:
        print(f'[ood_report] run {recommendation["also"]} too: '
              f'{recommendation["also_text"]}')
    print(f'[ood_report] wrote {osp.join(out, "report.md")}, report.json and '
          f'{2 + len(figures)} figures')


def _shift_sentence(bn_shift: dict) -> str:
    """One sentence on how far the images shift the teacher's BatchNorm
    statistics."""
    value = bn_shift['value']
    if value is None:
        return ('The teacher has no BatchNorm layer with running statistics, '
                'so how far the images are from its domain is not measured.')
    return (f'The images shift the statistics of the teacher\'s '
            f'{len(bn_shift["per_layer"])} BatchNorm layers by {value:.3f} '
            '(mean KL divergence per channel, about 0 on images like its '
            'training images); the recipe gives the student OOD images '
            f'below {bn_shift["far"]:g} (a quarter of each update, half '
            'where they are many and show most classes) and none from '
            'there.')


def _recommendation(cfg, kind: str, bn_shift: dict, path: str,
                    per_class: float) -> dict:
    """The recipe :func:`recipes.recommend` picks for this coverage
    verdict, BatchNorm shift (``bn_shift`` as in the report) and number of
    OOD images per class of the teacher, with the config keys that give it
    to ``cfg``."""
    from mmmosaic.analysis import recipes
    has_bn = bn_shift['layers'] > 0
    rec = recipes.recommend(kind, has_bn, bn_shift['value'], per_class)
    rec['teacher_has_bn'] = has_bn
    recipe = recipes.RECIPES[rec['name']]
    rec['options'] = None
    if rec['name'] in recipes.FORMS:
        rec['keys_text'] = recipes.form_text(path, rec['name'])
    elif not cfg.model.get('generator') or not cfg.model.get('discriminator'):
        rec['keys_text'] = (
            'This config has no generator and discriminator; give the '
            'recipe to its MosaicKD form (e.g. configs/zoo/'
            'resnet18_mobilenetv2_own_images.py with your teacher and '
            'images).')
    else:
        rec['options'] = recipes.recipe_options(cfg, **recipe['options'])
        rec['keys_text'] = ('It is this config with --cfg-options ' +
                            ' '.join(rec['options']) if rec['options'] else
                            'It is this config as it is.')
    rec['also_text'] = (
        recipes.form_text(path, rec['also']) if rec['also'] else None)
    return rec


if __name__ == '__main__':
    sys.exit(main())
