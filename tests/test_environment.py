"""The installed packages are the locked ones (requirements/lock.txt).

The first test fails whenever this interpreter's packages differ from the
lock; MMMOSAIC_UNLOCKED relaxes it (docs/installation.md).
"""
import configparser
import os
import os.path as osp
import subprocess
import sys

import pytest
from _tiny import load_script
from packaging.requirements import Requirement

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(REPO, 'tools', 'check_env.py')
REQUIREMENTS = [
    osp.join(REPO, 'requirements', name)
    for name in ('runtime.txt', 'mmcv.txt', 'tests.txt')
]

check_env = load_script('tools/check_env.py')


def _run(*args, unlocked=None):
    env = dict(os.environ)
    env.pop(check_env.ENV_VAR, None)
    if unlocked is not None:
        env[check_env.ENV_VAR] = unlocked
    return subprocess.run([sys.executable, SCRIPT, *args],
                          cwd=REPO,
                          env=env,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE,
                          universal_newlines=True,
                          timeout=120)


def _write_lock(path, pins):
    path.write_text('# test lock\n' +
                    ''.join(f'{name}=={version}\n'
                            for name, version in pins.values()))


def test_installed_packages_match_the_lock():
    everything, _ = check_env.parse_unlocked(os.environ.get(check_env.ENV_VAR))
    if everything:
        pytest.skip(f'{check_env.ENV_VAR}=all: installed outside the lock')
    proc = _run(unlocked=os.environ.get(check_env.ENV_VAR))
    assert proc.returncode == 0, proc.stderr
    assert 'match' in proc.stdout


def test_a_changed_version_names_the_package_both_versions_and_the_fix(
        tmp_path):
    present = check_env.installed()
    name, have = present['pytest']
    pins = {k: v for k, v in present.items() if k not in check_env.NOT_LOCKED}
    pins['pytest'] = (name, '0.0.1')
    lock = tmp_path / 'lock.txt'
    _write_lock(lock, pins)

    proc = _run('--lock', str(lock))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f'{name} {have} is installed' in lines[0]
    assert 'pins 0.0.1' in lines[0]
    assert f'pip install {name}==0.0.1' in lines[0]
    assert f'{check_env.ENV_VAR}=pytest' in lines[0]

    # The escape hatch: by name, or for everything.
    assert _run('--lock', str(lock), unlocked='Pytest').returncode == 0
    proc = _run('--lock', str(lock), unlocked='all')
    assert proc.returncode == 0
    assert 'not checked' in proc.stdout


def test_missing_and_extra_packages_are_reported():
    pins = {'mmcv-lite': ('mmcv-lite', '2.1.0'), 'numpy': ('numpy', '2.4.6')}
    present = {'mmcv': ('mmcv', '2.1.0'), 'numpy': ('numpy', '2.4.6')}
    lines = check_env.differences(pins, present)
    assert len(lines) == 2
    assert lines[0].startswith('mmcv 2.1.0 is installed but')
    assert 'pip uninstall mmcv' in lines[0]
    assert lines[1].startswith('mmcv-lite is not installed but')
    assert 'pins 2.1.0' in lines[1]
    # Full mmcv instead of mmcv-lite, on purpose:
    _, ignore = check_env.parse_unlocked(' mmcv, mmcv_lite ')
    assert check_env.differences(pins, present, ignore) == []
    # pip and the project itself are never compared.
    present['pip'] = ('pip', '99')
    present['mmmosaic'] = ('mmmosaic', '0.1.0')
    assert check_env.differences(pins, present, ignore) == []
    # Versions are compared as versions, names as PEP 503 names.
    assert check_env.differences({'pyyaml': ('PyYAML', '6.0')},
                                 {'pyyaml': ('pyyaml', '6.0.0')}) == []


def _top_level_requirements():
    reqs = []
    for path in REQUIREMENTS:
        with open(path, encoding='utf-8') as f:
            for line in f:
                line = line.split('#', 1)[0].strip()
                if line:
                    reqs.append((osp.relpath(path, REPO), Requirement(line)))
    cfg = configparser.ConfigParser()
    cfg.read(osp.join(REPO, 'setup.cfg'))
    for line in cfg['options']['install_requires'].splitlines():
        if line.strip():
            reqs.append(('setup.cfg', Requirement(line.strip())))
    return reqs


def test_the_lock_satisfies_the_hand_written_requirements():
    pins = check_env.read_lock()
    assert not set(check_env.NOT_LOCKED) & set(pins)
    for source, req in _top_level_requirements():
        key = check_env.canonical(req.name)
        assert key in pins, f'{source} needs {req.name}; the lock has none'
        version = pins[key][1]
        assert req.specifier.contains(
            version, prereleases=True), (
                f'{source} asks for {req}, the lock pins {version}: '
                'refresh the lock (docs/installation.md)')
