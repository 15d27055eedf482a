"""The tools' --help and argument errors import no torch, mmengine, mmcv,
mmpretrain or mmseg (they took 6-30 s when they did); and importing
mmmosaic still makes mmseg importable with mmcv-lite, as soon as mmcv is
imported."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = ('tools/train.py', 'tools/test.py', 'tools/analysis/ood_report.py',
         'tools/select_ood_subset.py',
         'tools/model_converters/extract_student.py')
HEAVY = ('torch', 'mmengine', 'mmcv', 'mmpretrain', 'mmseg', 'numpy')

# Runs a tool as `python TOOL ARGS...` does, then prints the heavy
# packages it imported (a tool ends with sys.exit(main())).
_PROBE = f"""
import runpy, sys
tool, args = sys.argv[1], sys.argv[2:]
sys.argv = [tool] + args
try:
    runpy.run_path(tool, run_name='__main__')
except SystemExit as exc:
    status = exc.code
print('STATUS', status)
print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} &
                     set({HEAVY!r})))
"""


def _probe(tool, *args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, '-c', _PROBE, tool, *args],
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)
    lines = done.stdout.splitlines()
    status = next(line for line in lines if line.startswith('STATUS'))
    heavy = next(line for line in lines if line.startswith('HEAVY'))
    return status.split()[1], heavy, done


@pytest.mark.parametrize('tool', TOOLS)
def test_help_imports_nothing_heavy(tool):
    status, heavy, done = _probe(tool, '--help')
    assert status == '0', done.stderr
    assert 'usage:' in done.stdout
    assert heavy == 'HEAVY []', (tool, heavy)


@pytest.mark.parametrize('args', [(), ('missing_config.py', ), ('configs', )])
def test_argument_errors_import_nothing_heavy(args):
    # No config, a config that does not exist, a folder for a config.
    status, heavy, done = _probe('tools/train.py', *args)
    assert status == '2', done.stderr
    assert done.stderr.startswith('error: '), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert heavy == 'HEAVY []', heavy


def test_unknown_launcher_imports_nothing_heavy():
    status, heavy, done = _probe('tools/test.py', 'a.py', 'b.pth',
                                 '--launcher', 'nope')
    assert status == '2'
    assert "invalid choice: 'nope'" in done.stderr
    assert heavy == 'HEAVY []', heavy


def test_cfg_options_still_parsed_as_mmengine_does():
    from mmmosaic.cli import ArgumentParser, add_cfg_options
    parser = ArgumentParser()
    add_cfg_options(parser)
    args = parser.parse_args([
        '--cfg-options', 'a.b=3', 'c=[1,2]', 'd=x', '--cfg-options', 'e=False'
    ])
    assert args.cfg_options == {'a.b': 3, 'c': [1, 2], 'd': 'x', 'e': False}
    with pytest.raises(SystemExit):
        parser.parse_args(['--cfg-options', 'nokeyvalue'])


def test_mmseg_imports_after_mmmosaic_without_mmcv_ops():
    # What the README's segmentation lines rely on: import mmmosaic, then
    # mmseg's API, in a fresh process (mmcv-lite has no compiled ops).
    code = ('import sys, mmmosaic\n'
            "assert 'torch' not in sys.modules\n"
            'from mmseg.apis import init_model\n'
            "print(getattr(sys.modules['mmcv.ops'], "
            "'__mmmosaic_fallback__', 'full'))\n"
            "print(type(sys.modules['mmcv'].__loader__).__name__)\n")
    done = subprocess.run([sys.executable, '-c', code],
                          cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    fallback, loader = done.stdout.split()
    assert fallback in ('True', 'full')
    assert loader == 'SourceFileLoader'  # mmcv's own, once imported
