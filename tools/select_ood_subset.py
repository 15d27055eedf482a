"""Keep the N out-of-domain images the teacher is least sure about.

    python tools/select_ood_subset.py CONFIG --num N --out subset.json
        [--cfg-options model.teacher_ckpt=PATH ...]

Runs the teacher of a MosaicKD config over the ``real`` view of its train
dataset and writes the source indices of the N images with the highest
prediction entropy (the paper's subset of ImageNet/Places, N = size of the
in-domain training set). Use it with
``--cfg-options train_dataloader.dataset.subset_file=subset.json``.
"""
import json
import os
import os.path as osp
import sys

# isort: off
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

# mmmosaic first: its mmcv-lite compat must precede any mmseg import. What
# imports torch is imported after the arguments are read (a quick --help).
from mmmosaic.cli import (ArgumentParser, add_cfg_options, check_config_file,
                          tool_main)
from mmmosaic.errors import MosaicError
# isort: on


@tool_main
def main():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--num', type=int, required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--batch-size', type=int, default=256)
    add_cfg_options(parser)
    args = parser.parse_args()
    check_config_file(args.config)
    if args.num < 1:
        raise MosaicError(f'--num must be >= 1, got {args.num}; give how many '
                          'OOD images to keep.')
    if args.batch_size < 1:
        raise MosaicError(f'--batch-size must be >= 1, got {args.batch_size};'
                          ' give the images per teacher pass, e.g. 256.')
    if osp.isdir(args.out):
        raise MosaicError(f'--out {args.out!r} is a folder; give the path of '
                          'the JSON file to write, e.g. subset.json.')
    from mmmosaic.analysis.ood_report import check_ood_config
    from mmmosaic.runtime import (check_data_paths, check_teacher_ckpt,
                                  load_config)
    cfg = load_config(args.config, args.cfg_options)
    check_ood_config(cfg, args.config)
    # The whole OOD set is ranked: a subset_file the config names (often the
    # file this run is about to write) is not read, so it need not exist.
    cfg.train_dataloader.dataset.pop('subset_file', None)
    check_data_paths(cfg, ('train_dataloader', ))
    check_teacher_ckpt(cfg)
    # Before the teacher pass, so a bad --out costs nothing.
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    from mmmosaic.analysis import select_high_entropy, teacher_entropies
    from mmmosaic.registry import DATASETS
    from mmmosaic.runtime import build_model
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = build_model(cfg)

    def progress(done, total):
        print(f'\r[subset] teacher entropy {done}/{total}', end='', flush=True)

    entropies = teacher_entropies(
        model, dataset, args.batch_size, progress=progress)
    print()
    chosen = select_high_entropy(entropies, args.num, dataset.indices)
    with open(args.out, 'w') as f:
        json.dump(chosen, f)
    threshold = entropies.sort(descending=True).values[len(chosen) - 1]
    print(f'[subset] kept {len(chosen)} of {len(dataset)} images (entropy '
          f'>= {threshold:.3f} nats) -> {args.out}')


if __name__ == '__main__':
    sys.exit(main())
