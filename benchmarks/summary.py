"""One table of every quality-benchmark setting that has a results.json.

    python benchmarks/summary.py [--root work_dirs/benchmarks/quality]

Prints, per setting, the teacher and each method's last score (accuracy or
mIoU; mean ± standard deviation over seeds), MosaicKD's lead over KD on OOD
images, and how many of the teacher's classes it sees in the OOD images
(the effective number of classes: exp of the entropy of the share of OOD
images, or pixels, the teacher gives each class).
"""
import glob
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
from mmmosaic.benchmarking import QualityReport  # noqa: E402
from mmmosaic.cli import ArgumentParser, tool_main  # noqa: E402
from mmmosaic.errors import MosaicError  # noqa: E402
from mmmosaic.utils.runs import table  # noqa: E402

METHODS = ('kd_ood', 'dfad', 'mosaickd')


def summarise(root: str) -> str:
    rows = []
    for path in sorted(glob.glob(osp.join(root, '*', 'results.json'))):
        report = QualityReport.load(path)
        last = {m: r.last for m, r in report.methods.items()}
        cells = [
            f'{last[m]["mean"]:.2f} ± {last[m]["std"]:.2f}'
            if m in last else '-' for m in METHODS
        ]
        lead = '-'
        if 'mosaickd' in last and 'kd_ood' in last:
            lead = f'{last["mosaickd"]["mean"] - last["kd_ood"]["mean"]:+.2f}'
        budget = next(iter(report.methods.values())).budget['student_updates']
        coverage = report.coverage
        classes = (f'{coverage["effective_top_classes"]:.1f} of '
                   f'{coverage["num_classes"]}' if coverage else '-')
        rows.append([
            osp.basename(osp.dirname(path)), report.metric,
            f'{report.teacher.score:.2f}', *cells, lead, classes,
            f'{budget:,}', f'{report.total_minutes:.0f}'
        ])
    if not rows:
        return f'No results.json under {root}/*/.'
    return table(rows, [
        'setting', 'metric', 'teacher', 'KD on OOD', 'DFAD', 'MosaicKD',
        'MosaicKD - KD', 'teacher classes on OOD', 'student updates', 'minutes'
    ])


@tool_main
def main():
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--root', default=osp.join(ROOT, 'work_dirs', 'benchmarks', 'quality'))
    root = parser.parse_args().root
    if not osp.isdir(root):
        raise MosaicError(f'--root {root!r} is not a folder; give the folder '
                          'holding benchmarks/quality.py work dirs.')
    print(summarise(root))


if __name__ == '__main__':
    sys.exit(main())
