"""Every tool's boundary: a bad input is one ``error:`` line naming the
file, key or value (exit status 2, no traceback); an unexpected failure is
one line naming the file that holds the traceback (exit status 1).

Most cases call a tool's ``main`` in this process with a patched
``sys.argv`` (they fail before any training); the measured gaps and the
failure during training run the real scripts.
"""
import os
import os.path as osp
import pickle
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import pytest
import torch
from _tiny import (classifier, load_script, mosaickd, write_runner_config,
                   write_test_config)
from mmengine.registry import init_default_scope

from mmmosaic import cli
from mmmosaic.errors import MosaicError
from mmmosaic.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
_TOOLS = {}


class _RunsCode:
    """Unpickling this would create ``path``: it must never happen."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


@pytest.fixture(scope='module')
def f(tmp_path_factory):
    """Bad (and a few good) inputs, written once for the module."""
    d = tmp_path_factory.mktemp('bad_inputs')
    tiny = write_runner_config(d / 'tiny.py', d / 'work', max_iters=4)
    write_test_config(d / 'tinytest.py')
    load = ("[dict(type='mmpretrain.LoadImageFromFile', "
            "color_type='grayscale')]")
    view = ("[dict(type='mmpretrain.Resize', scale=(16, 16)), "
            "dict(type='mmpretrain.PackInputs')]")
    (d / 'folder.py').write_text(
        "_base_ = ['./tiny.py']\n"
        'train_dataloader = dict(dataset=dict(source=dict(_delete_=True, '
        f"type='UnlabeledImageFolder', data_root='{d}/empty_images', "
        f'pipeline={load}), real_pipeline={view}, '
        f'student_pipeline={view}))\n')
    (d / 'layout.py').write_text(
        "_base_ = ['./tiny.py']\n"
        'train_dataloader = dict(dataset=dict(source=dict(_delete_=True, '
        f"type='ClassFolderSubset', data_root='{d}', split='empty_images', "
        f"classes=['cat', 'dog'], pipeline={load})))\n")
    os.makedirs(d / 'empty_images')
    os.makedirs(d / 'junk_images')
    for i in range(3):
        (d / 'junk_images' / f'{i}.png').write_text('not an image')
    # A zoo config as _base_: its runtime and typeless preprocessor leak in.
    (d / 'zoo_runtime.py').write_text(
        "_base_ = ['mmpretrain::resnet/resnet18_8xb16_cifar10.py']\n"
        f'model = {dict(mosaickd(), _delete_=True)!r}\n')
    (d / 'zoo_preprocessor.py').write_text(
        "_base_ = ['./tiny.py']\n"
        'data_preprocessor = dict(num_classes=10, mean=[127.5], '
        'std=[64.0])\n')
    (d / 'empty_test_cfg.py').write_text(
        "_base_ = ['./tinytest.py']\ntest_cfg = dict(_delete_=True)\n")
    (d / 'subset.json').write_text('[1, 2')
    (d / 'syntax.py').write_text('model = dict(\n')
    (d / 'bad_base.py').write_text("_base_ = ['nope/base.py']\n")
    (d / 'raises.py').write_text('x = undefined_name\n')
    (d / 'config.txt').write_text('model = dict()\n')
    (d / 'no_model.py').write_text('a = 1\n')

    init_default_scope('mmmosaic')
    game = MODELS.build(mosaickd())
    teacher = MODELS.build(classifier((8, 16)))
    torch.save(dict(state_dict=game.state_dict(), meta={}), d / 'game.pth')
    torch.save(
        dict(state_dict=teacher.state_dict(), meta={}), d / 'teacher.pth')
    torch.save(
        dict(
            state_dict=teacher.state_dict(),
            meta=dict(epoch=0, iter=2),
            optimizer={}), d / 'other_run.pth')
    data = (d / 'game.pth').read_bytes()
    (d / 'truncated.pth').write_bytes(data[:len(data) // 2])
    (d / 'empty.pth').write_bytes(b'')
    (d / 'text.pth').write_text('hello\n')
    marker = str(d / 'code_ran')
    torch.save(dict(state_dict={'x': _RunsCode(marker)}), d / 'code.pth')
    with open(d / 'code.pkl', 'wb') as fh:
        pickle.dump(_RunsCode(marker), fh)
    damaged = d / 'damaged_run'
    os.makedirs(damaged)
    (damaged / 'iter_2.pth').write_bytes(data[:100])
    (damaged / 'last_checkpoint').write_text(str(damaged / 'iter_2.pth'))
    return SimpleNamespace(
        d=str(d),
        tiny=tiny,
        marker=marker,
        **{name.replace('.', '_'): str(d / name)
           for name in os.listdir(d)})


def _tool(rel: str):
    """A tool script imported as a module (once)."""
    if rel not in _TOOLS:
        _TOOLS[rel] = load_script(rel,
                                  'bad_inputs_' + rel.replace('/', '_')[:-3])
    return _TOOLS[rel]


@pytest.fixture(autouse=True)
def forget_runners():
    """A Runner built in this process leaves named loggers, visualizers and
    scopes behind; a later one of the same name and second would reuse them
    (with streams pytest has closed). Drop those a test created."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer
    kinds = (MMLogger, MessageHub, Visualizer, DefaultScope)
    before = {kind: set(kind._instance_dict) for kind in kinds}
    yield
    for kind in kinds:
        for name in set(kind._instance_dict) - before[kind]:
            instance = kind._instance_dict.pop(name)
            for handler in getattr(instance, 'handlers', ())[:]:
                handler.close()
                instance.removeHandler(handler)


def no_launcher_env(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT',
                'SLURM_PROCID', 'SLURM_NTASKS', 'OMPI_COMM_WORLD_RANK',
                'MMMOSAIC_DEBUG'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('LOCAL_RANK', '0')


def _one_error_line(status, err, needles, expect=2):
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == expect, err
    assert 'Traceback' not in err, err
    assert len(lines) == 1 and lines[0].startswith('error: '), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


T, TE, EX, SEL = ('tools/train.py', 'tools/test.py',
                  'tools/model_converters/extract_student.py',
                  'tools/select_ood_subset.py')
Q, SP = 'benchmarks/quality.py', 'benchmarks/speed.py'
W = ['--work-dir', '{d}/unused']

# (id, tool, argv, words the error line must contain). ``{name}`` is a file
# of the fixture ``f`` (dots as underscores), ``{d}`` its folder.
# yapf: disable
CASES = [
    # configs
    ('config-missing', T, ['{d}/nope.py'], ['nope.py', 'does not exist']),
    ('config-is-a-folder', T, ['{d}'], ['is a folder']),
    ('config-syntax-error', T, ['{syntax_py}'], ['syntax.py', 'SyntaxError']),
    ('config-bad-base', T, ['{bad_base_py}'], ['nope/base.py']),
    ('config-raises', T, ['{raises_py}'], ['undefined_name', 'raises.py:1']),
    ('config-not-python', T, ['{config_txt}'], ['config.txt']),
    ('config-without-model', T, ['{no_model_py}'], ['sets no model']),
    ('unknown-model-type', T,
     ['{tiny}', *W, '--cfg-options', 'model.type=NoSuchModel'],
     ["'NoSuchModel'", 'registry']),
    ('misspelt-config-key', T,
     ['{tiny}', *W, '--cfg-options', 'train_cfg.max_iter=5'],
     ["'max_iter'", 'IterBasedTrainLoop']),
    # --cfg-options values
    ('option-word-for-bool', T,
     ['{tiny}', *W, '--cfg-options', 'model.allow_random_teacher=maybe'],
     ['model.allow_random_teacher=maybe', 'True or False']),
    ('option-word-for-number', T,
     ['{tiny}', *W, '--cfg-options', 'randomness.seed=x'],
     ['randomness.seed=x', 'not a number']),
    ('option-value-for-section', T,
     ['{tiny}', *W, '--cfg-options', 'model=abc'],
     ['model=abc', 'section']),
    ('option-without-equals', T,
     ['{tiny}', '--cfg-options', 'train_cfg.max_iters'],
     ["'train_cfg.max_iters'", 'KEY=VALUE']),
    ('teacher-ckpt-missing', T,
     ['{tiny}', *W, '--cfg-options', 'model.teacher_ckpt={d}/nope.pth'],
     ['model.teacher_ckpt', 'nope.pth']),
    ('zoo-base-runtime', T, ['{zoo_runtime_py}', *W],
     ["zoo config's runtime", "default_scope is 'mmpretrain'",
      'epoch-based', 'randomness.seed is None', 'cfg_path']),
    ('zoo-base-preprocessor-without-type', T, ['{zoo_preprocessor_py}', *W],
     ['model.data_preprocessor has no type', 'data_preprocessor = None',
      'cfg_path']),
    ('model-without-scope', T,
     ['{tiny}', *W, '--cfg-options', 'model.teacher._scope_=None'],
     ["'ImageClassifier'", "mmpretrain's", "_scope_='mmpretrain'"]),
    ('zoo-config-unknown', T,
     ['{tiny}', *W, '--cfg-options',
      'model.teacher.cfg_path=mmpretrain::nope/x.py'],
     ["'mmpretrain::nope/x.py'", 'not a config of the installed mmpretrain']),
    ('teacher-ckpt-not-a-checkpoint', T,
     ['{tiny}', *W, '--cfg-options', 'model.teacher_ckpt={text_pth}'],
     ['text.pth', 'not a checkpoint']),
    # launchers
    ('launcher-unknown', T, ['{tiny}', '--launcher', 'foo'], ["'foo'"]),
    ('launcher-slurm-outside-slurm', T,
     ['{tiny}', *W, '--launcher', 'slurm'], ['--launcher slurm', 'srun']),
    ('launcher-pytorch-without-torchrun', T,
     ['{tiny}', *W, '--launcher', 'pytorch'], ['RANK', 'torchrun']),
    ('launcher-mpi-without-mpirun', T,
     ['{tiny}', *W, '--launcher', 'mpi'], ['mpirun', 'MASTER_ADDR']),
    # resume
    ('resume-missing', T, ['{tiny}', *W, '--resume', '{d}/nope.pth'],
     ['nope.pth', 'does not exist']),
    ('resume-empty', T, ['{tiny}', *W, '--resume', '{empty_pth}'],
     ['empty.pth', 'empty (0 bytes']),
    ('resume-not-a-checkpoint', T, ['{tiny}', *W, '--resume', '{text_pth}'],
     ['text.pth', 'not a checkpoint']),
    ('resume-code-in-pickle', T, ['{tiny}', *W, '--resume', '{code_pth}'],
     ['code.pth', 'could run code']),
    ('resume-weights-only', T, ['{tiny}', *W, '--resume', '{teacher_pth}'],
     ['teacher.pth', 'weights only']),
    ('resume-another-architecture', T,
     ['{tiny}', *W, '--resume', '{other_run_pth}'],
     ['other_run.pth', 'does not fit']),
    ('resume-only-damaged-checkpoints', T,
     ['{tiny}', '--work-dir', '{damaged_run}', '--resume'],
     ['no intact checkpoint', 'damaged_run']),
    # data
    ('data-folder-missing', T,
     ['{folder_py}', *W, '--cfg-options',
      'train_dataloader.dataset.source.data_root={d}/nowhere'],
     ['train_dataloader.dataset.source.data_root', 'nowhere']),
    ('data-folder-empty', T, ['{folder_py}', *W],
     ['empty_images', 'no image files']),
    ('data-images-unreadable', T,
     ['{folder_py}', *W, '--cfg-options',
      'train_dataloader.dataset.source.data_root={junk_images}'],
     ['None of the 3 OOD images']),
    ('data-wrong-layout', T, ['{layout_py}', *W], ['cat', 'does not exist']),
    ('data-subset-file-not-json', T,
     ['{tiny}', *W, '--cfg-options',
      'train_dataloader.dataset.subset_file={subset_json}'],
     ['subset.json', 'not JSON']),
    # tools/test.py
    ('test-checkpoint-missing', TE, ['{tinytest_py}', '{d}/nope.pth', *W],
     ['nope.pth', 'does not exist']),
    ('test-checkpoint-truncated', TE,
     ['{tinytest_py}', '{truncated_pth}', *W], ['truncated.pth', 'damaged']),
    ('test-checkpoint-code-pickle', TE, ['{tinytest_py}', '{code_pkl}', *W],
     ['code.pkl', 'nothing of it was run']),
    ('test-checkpoint-of-another-config', TE,
     ['{tinytest_py}', '{teacher_pth}', *W], ['teacher.pth', 'does not fit']),
    ('test-config-without-test-set', TE, ['{tiny}', '{game_pth}', *W],
     ['test_dataloader']),
    # tools/model_converters/extract_student.py
    ('extract-checkpoint-without-student', EX,
     ['{tiny}', '{teacher_pth}', '{d}/out'], ['teacher.pth', 'student']),
    ('extract-config-without-student', EX,
     ['configs/demo/teacher_mnist.py', '{game_pth}', '{d}/out'],
     ['model.student']),
    ('extract-out-dir-is-a-file', EX, ['{tiny}', '{game_pth}', '{text_pth}'],
     ['OUT_DIR', 'text.pth']),
    ('extract-checkpoint-missing', EX, ['{tiny}', '{d}/nope.pth', '{d}/out'],
     ['nope.pth']),
    # tools/select_ood_subset.py
    ('select-num-zero', SEL, ['{tiny}', '--num', '0', '--out', '{d}/s.json'],
     ['--num', '0']),
    ('select-num-not-int', SEL,
     ['{tiny}', '--num', 'abc', '--out', '{d}/s.json'], ["'abc'"]),
    ('select-out-is-a-folder', SEL, ['{tiny}', '--num', '4', '--out', '{d}'],
     ['--out', 'is a folder']),
    ('select-out-under-a-file', SEL,
     ['{tiny}', '--num', '4', '--out', '{text_pth}/s.json'],
     ['text.pth', 'folder is needed']),
    ('select-config-without-ood-data', SEL,
     ['configs/demo/teacher_mnist.py', '--num', '4', '--out', '{d}/s.json'],
     ['teacher_mnist.py', 'OODDataset']),
    # tools/dataset_converters
    ('fetch-out-dir-is-a-file', 'tools/dataset_converters/fetch_mnist.py',
     ['--out-dir', '{text_pth}'], ['--out-dir', 'text.pth']),
    ('canvas-out-dir-is-a-file', 'tools/dataset_converters/mnist_canvas.py',
     ['--out-dir', '{text_pth}'], ['--out-dir', 'text.pth']),
    ('canvas-idx-files-missing', 'tools/dataset_converters/mnist_canvas.py',
     ['--out-dir', '{d}/canvas', '--mnist-root', '{d}/no_mnist'],
     ['no_mnist', 'fetch_mnist.py']),
    ('nyu-source-missing', 'tools/dataset_converters/nyu.py',
     ['{d}/no_nyu', '{d}/nyu_out'], ['no_nyu']),
    ('nyu-destination-is-a-file', 'tools/dataset_converters/nyu.py',
     ['{d}', '{text_pth}'], ['DST', 'text.pth']),
    ('nyu-unknown-label-format', 'tools/dataset_converters/nyu.py',
     ['{d}', '{d}/nyu_out', '--labels', 'foo'], ["'foo'", '--labels']),
    ('places-source-missing', 'tools/dataset_converters/places365.py',
     ['{d}/no_places', '{d}/places_out'], ['no_places', 'does not exist']),
    ('places-size-zero', 'tools/dataset_converters/places365.py',
     ['{d}', '{d}/../places_out', '--size', '0'], ['--size']),
    # benchmarks and demos
    ('quality-option-word-for-number', Q,
     ['mnist_fashion', '--work-dir', '{d}/q', '--cfg-options',
      'train_cfg.max_iters=abc'], ['train_cfg.max_iters=abc']),
    ('quality-option-without-equals', Q,
     ['mnist_fashion', '--work-dir', '{d}/q', '--cfg-options', 'max_iters'],
     ["'max_iters'", 'KEY=VALUE']),
    ('quality-jobs-zero', Q, ['mnist_fashion', '--jobs', '0'], ['--jobs']),
    ('quality-unknown-setting', Q, ['nosuch'], ["'nosuch'"]),
    ('quality-work-dir-is-a-file', Q,
     ['mnist_fashion', '--work-dir', '{text_pth}'], ['--work-dir']),
    ('quality-needs-data-root', Q, ['cifar10_animals', '--work-dir', '{d}/q'],
     ['--data-root']),
    ('speed-iters-zero', SP, ['--iters', '0'], ['--iters']),
    ('speed-config-missing', SP, ['--config', '{d}/nope.py'], ['nope.py']),
    ('speed-out-is-a-file', SP, ['--out', '{text_pth}'], ['--out']),
    ('speed-not-the-game', SP,
     ['--vs-plain', '--config', 'configs/demo/kd_ood_mnist_fashion.py',
      '--out', '{d}/sp'],
     ['kd_ood_mnist_fashion.py', 'generator and a discriminator']),
    ('speed-setting-needs-its-data', SP,
     ['--setting', 'camvid', '--out', '{d}/sp'], ['--ood-root']),
    ('speed-not-mosaickd', SP,
     ['--config', 'configs/demo/teacher_mnist.py', '--out', '{d}/sp'],
     ['teacher_mnist.py', 'not a MosaicKD config']),
    ('ablations-without-quality-runs', 'benchmarks/ablations.py',
     ['mnist_fashion', '--quality-dir', '{d}/no_quality',
      '--work-dir', '{d}/abl'], ['no_quality', 'quality.py']),
    ('summary-root-missing', 'benchmarks/summary.py', ['--root', '{d}/none'],
     ['--root']),
    ('demo-work-dir-is-a-file', 'demo/mnist_fashion_demo.py',
     ['--work-dir', '{text_pth}'], ['--work-dir']),
]
# yapf: enable
if not torch.cuda.is_available():
    CASES.append(('amp-without-gpu', T, ['{tiny}', *W, '--amp'], ['--amp']))


@pytest.mark.parametrize(
    'tool,argv,needles', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_sentence(tool, argv, needles, f, monkeypatch,
                                   capsys):
    no_launcher_env(monkeypatch)
    monkeypatch.chdir(ROOT)
    for folder in ('demo', 'benchmarks', 'tests'):
        monkeypatch.syspath_prepend(osp.join(ROOT, folder))
    argv = [a.format(**vars(f)) for a in argv]
    monkeypatch.setattr(sys, 'argv', [tool, *argv])
    module = _tool(tool)
    capsys.readouterr()
    status = module.main()
    _one_error_line(status, capsys.readouterr().err, needles)
    assert not osp.exists(f.marker), 'a checkpoint ran code while loading'


def test_test_accepts_an_empty_test_cfg(f, monkeypatch, capsys):
    """``test_cfg = dict()``, mmengine's plain TestLoop, is a test setting."""
    no_launcher_env(monkeypatch)
    monkeypatch.syspath_prepend(osp.join(ROOT, 'tests'))
    monkeypatch.setattr(sys, 'argv', [
        TE, f.empty_test_cfg_py, f.game_pth, '--work-dir', f'{f.d}/empty_cfg'
    ])
    assert _tool(TE).main() == 0, capsys.readouterr().err
    assert 'accuracy/top1' in capsys.readouterr().out


def test_speed_refuses_a_method_it_cannot_time(monkeypatch, capsys):
    """benchmarks/speed.py times named methods of the model through the
    phase profiler; one that is missing (renamed) is one sentence naming it
    and the methods there are, checked before anything is timed."""
    from mmmosaic.benchmarking.profile import check_phases
    init_default_scope('mmmosaic')
    model = MODELS.build(mosaickd())
    check_phases(model)  # MosaicKD has them all
    monkeypatch.delattr(type(model), 'discriminator_step')
    status = cli.tool_main(lambda: check_phases(model))()
    _one_error_line(status,
                    capsys.readouterr().err, [
                        'MosaicKD.discriminator_step', 'does not have',
                        'generator_step', 'student_step'
                    ])


# ------------------------------------------- the real scripts, end to end
def _script(*args, env=None):
    env = dict(
        os.environ,
        PYTHONPATH=osp.join(ROOT, 'tests'),
        OMP_NUM_THREADS='1',
        PYTHONWARNINGS='ignore',
        **(env or {}))
    env.pop('MMMOSAIC_DEBUG', None)
    proc = subprocess.run([sys.executable, *args],
                          cwd=ROOT,
                          env=env,
                          capture_output=True,
                          text=True)
    return proc


@pytest.mark.parametrize(
    'args,needles',
    [
        # The three gaps measured before the rule existed: each gave a
        # traceback from deep inside torch or mmengine.
        ([
            'tools/train.py', '{tiny}', '--work-dir', '{d}/unused',
            '--cfg-options', 'train_cfg.max_iters=abc'
        ], ['train_cfg.max_iters=abc', 'not a number']),
        ([
            'tools/train.py', '{tiny}', '--work-dir', '{d}/unused', '--resume',
            '{truncated_pth}'
        ], ['truncated.pth', 'damaged']),
        ([
            'tools/test.py', '{tinytest_py}', '{text_pth}', '--work-dir',
            '{d}/unused'
        ], ['text.pth', 'not a checkpoint']),
    ],
    ids=['max-iters-abc', 'resume-truncated', 'test-not-a-checkpoint'])
def test_scripts_print_one_sentence(args, needles, f):
    proc = _script(*[a.format(**vars(f)) for a in args])
    _one_error_line(proc.returncode, proc.stderr, needles)


def test_failure_during_training_keeps_the_last_checkpoint(tmp_path):
    from mmmosaic.engine import is_complete_checkpoint
    work = tmp_path / 'run'
    config = write_runner_config(
        tmp_path / 'raises.py',
        work,
        max_iters=8,
        ckpt_interval=2,
        extra_hooks=[dict(type='RaiseAtIterHook', at=5)])
    proc = _script('tools/train.py', config)
    line = _one_error_line(
        proc.returncode,
        proc.stderr,
        ['RuntimeError: injected failure after iteration 5', '--debug'],
        expect=1)
    ckpt = str(work / 'iter_4.pth')
    assert f'the last checkpoint, {ckpt}, is intact' in line
    assert not osp.exists(work / 'iter_6.pth')
    log = line.split('full traceback in ')[1].split(';')[0]
    assert log.startswith(str(work)) and log.endswith('.log')
    with open(log) as fh:
        text = fh.read()
    assert 'Traceback' in text
    assert 'injected failure after iteration 5' in text
    assert is_complete_checkpoint(ckpt)
    state = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert state['meta']['iter'] == 4
    with open(work / 'last_checkpoint') as fh:
        assert fh.read().strip() == ckpt


# ------------------------------------------------------ the rule itself
@cli.tool_main
def _crashes(argv=None):
    raise RuntimeError('boom\nsecond line')


@cli.tool_main
def _refuses(argv=None):
    raise MosaicError('Key x is wrong; fix it.')


def test_unexpected_error_names_its_traceback_file(tmp_path, monkeypatch,
                                                   capsys):
    monkeypatch.delenv('MMMOSAIC_DEBUG', raising=False)
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    assert _crashes([]) == 1
    line = _one_error_line(
        1,
        capsys.readouterr().err, ['RuntimeError: boom', '--debug'],
        expect=1)
    path = line.split('full traceback in ')[1].split(';')[0]
    assert path.startswith(str(tmp_path))
    with open(path) as fh:
        assert 'second line' in fh.read()


@pytest.mark.parametrize('how', ['flag', 'env'])
def test_debug_prints_the_traceback(how, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp_path))
    argv = ['--debug'] if how == 'flag' else []
    if how == 'env':
        monkeypatch.setenv('MMMOSAIC_DEBUG', '1')
    else:
        monkeypatch.delenv('MMMOSAIC_DEBUG', raising=False)
    assert _crashes(argv) == 1
    err = capsys.readouterr().err
    assert 'Traceback' in err and 'printed above' in err
    assert _refuses(argv) == 2
    err = capsys.readouterr().err
    assert 'Traceback' in err
    assert err.strip().splitlines()[-1] == 'error: Key x is wrong; fix it.'


def test_traceback_goes_to_the_work_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv('MMMOSAIC_DEBUG', raising=False)

    @cli.tool_main
    def crashes_in_a_run(argv=None):
        cli.note(work_dir=str(tmp_path))
        raise ValueError('bad state')

    assert crashes_in_a_run([]) == 1
    line = _one_error_line(
        1, capsys.readouterr().err, ['ValueError: bad state'], expect=1)
    path = line.split('full traceback in ')[1].split(';')[0]
    assert osp.dirname(path) == str(tmp_path)
    assert osp.basename(path).startswith('traceback_')


def test_a_tool_with_debug_shows_the_traceback_of_a_bad_input(
        monkeypatch, capsys):
    monkeypatch.delenv('MMMOSAIC_DEBUG', raising=False)
    monkeypatch.setattr(sys, 'argv', [T, 'configs/nope.py', '--debug'])
    assert _tool(T).main() == 2
    err = capsys.readouterr().err
    assert 'Traceback' in err and 'MosaicError' in err
    assert err.strip().splitlines()[-1].startswith("error: Config file '")


def test_every_tool_takes_debug():
    """The rule is implemented once: every script uses tool_main and the
    parser that adds --debug."""
    scripts = [
        T, TE, EX, SEL, Q, SP, 'benchmarks/ablations.py',
        'benchmarks/summary.py', 'tools/dataset_converters/fetch_mnist.py',
        'tools/dataset_converters/mnist_canvas.py',
        'tools/dataset_converters/nyu.py',
        'tools/dataset_converters/places365.py', 'demo/mnist_fashion_demo.py',
        'demo/canvas_segmentation_demo.py'
    ]
    for rel in scripts:
        with open(osp.join(ROOT, rel)) as fh:
            text = fh.read()
        assert 'tool_main\n' in text and 'argparse.ArgumentParser(' not in (
            text), rel
