"""Check the installed packages against requirements/lock.txt, or write it.

    python tools/check_env.py            # exit 0 if they match, 2 if not
    python tools/check_env.py --write    # lock := what this interpreter has

The lock holds every package, dependencies of dependencies included, at the
version with which the test suite passed. ``make install`` installs exactly
that set; this check says which package differs from it and how to fix that.

Set MMMOSAIC_UNLOCKED to install outside the lock on purpose: a
comma-separated list of package names (e.g. ``mmcv,mmcv-lite`` for full mmcv
on a GPU cluster) leaves those packages out of the check; ``all`` turns the
check off.

It needs the standard library only (packaging, where installed, compares
versions), so it runs in an environment too broken to import the project.
"""
import argparse
import os
import os.path as osp
import platform
import re
import subprocess
import sys
from importlib import metadata

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LOCK = osp.join(REPO, 'requirements', 'lock.txt')
ENV_VAR = 'MMMOSAIC_UNLOCKED'
# Never in the lock: the project itself, and pip (its version is the one the
# interpreter's venv module bootstraps).
NOT_LOCKED = ('mmmosaic', 'pip')

HEADER = """\
# Every package of the environment whose test suite passed, dependencies of
# dependencies included: `make install` installs exactly this set, and the
# test suite fails when the installed set differs (tools/check_env.py).
# Do not edit by hand. What we depend on, and why, is in
# requirements/runtime.txt, mmcv.txt and tests.txt; to change a version,
# change those files and refresh this lock as docs/installation.md
# ("Refreshing the lock") says.
# Written by `make lock` with {python}.
"""


def canonical(name):
    """The PEP 503 form of a package name: ``Jinja2`` -> ``jinja2``."""
    return re.sub(r'[-_.]+', '-', name).lower()


def read_lock(path=LOCK):
    """``{canonical name: (name, version)}`` from a ``name==version`` file."""
    pins = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            name, sep, version = line.partition('==')
            if not sep or not name.strip() or not version.strip():
                raise ValueError(f'{path}:{lineno}: expected name==version, '
                                 f'got {line!r}')
            pins[canonical(name.strip())] = (name.strip(), version.strip())
    return pins


def installed():
    """``{canonical name: (name, version)}`` of this interpreter's packages.

    Only the interpreter's install folders count (site-packages and the
    folders an editable install adds to sys.path), not the copies that
    setuptools vendors and ``pkg_resources`` puts on sys.path once it is
    imported. Where a package is found twice, the first one wins, as it
    does for imports.
    """
    found = {}
    vendored = os.sep + '_vendor'
    paths = [p for p in sys.path if not p.rstrip(os.sep).endswith(vendored)]
    for dist in metadata.distributions(path=paths):
        name = dist.metadata['Name']
        if name:
            found.setdefault(canonical(name), (name, dist.version))
    return found


def parse_unlocked(value):
    """``(everything, names)`` from the value of MMMOSAIC_UNLOCKED."""
    value = (value or '').strip()
    if value.lower() in ('1', 'all', 'true', 'yes'):
        return True, frozenset()
    names = frozenset(
        canonical(n.strip()) for n in value.split(',') if n.strip())
    return False, names


def _same_version(a, b):
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:
        return a == b
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def differences(pins,
                present,
                ignore=frozenset(),
                python='python',
                lock_name='requirements/lock.txt'):
    """One sentence for each package that differs from the lock.

    ``pins`` and ``present`` map canonical names to ``(name, version)``;
    packages named in ``ignore`` (canonical names) are not compared.
    """
    skip = set(NOT_LOCKED) | set(ignore)

    def hatch(key, why):
        names = ','.join(sorted(set(ignore) | {key}))
        return f'or set {ENV_VAR}={names} if you {why} on purpose'

    def install(name, version):
        return (f'run `{python} -m pip install {name}=={version}` (or '
                f'`{python} -m pip install -r {lock_name}` for every package)')

    out = []
    for key in sorted(set(pins) | set(present)):
        if key in skip:
            continue
        if key not in present:
            name, want = pins[key]
            out.append(f'{name} is not installed but {lock_name} pins {want}: '
                       f'{install(name, want)}, '
                       f'{hatch(key, "left it out")}.')
        elif key not in pins:
            name, have = present[key]
            out.append(f'{name} {have} is installed but {lock_name} has no '
                       f'{name}: run `{python} -m pip uninstall {name}`, '
                       'refresh the lock if the project now needs it '
                       '(docs/installation.md, "Refreshing the lock"), '
                       f'{hatch(key, "installed it")}.')
        else:
            name, want = pins[key]
            have = present[key][1]
            if not _same_version(have, want):
                out.append(f'{name} {have} is installed but {lock_name} '
                           f'pins {want}: {install(name, want)}, '
                           f'{hatch(key, "chose this version")}.')
    return out


def _short(path):
    """``path`` relative to the working directory where that is shorter."""
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


def check(lock=LOCK, env=None):
    """Print what differs from the lock; return the exit code (0 or 2)."""
    env = os.environ if env is None else env
    everything, ignore = parse_unlocked(env.get(ENV_VAR))
    if everything:
        print(f'{ENV_VAR}={env.get(ENV_VAR)}: installed packages are not '
              'checked against the lock.')
        return 0
    lock_name = _short(lock)
    if not osp.isfile(lock):
        print(
            f'{lock_name} does not exist: write it with `make lock` from an '
            'environment whose tests pass.',
            file=sys.stderr)
        return 2
    problems = differences(
        read_lock(lock), installed(), ignore, _short(sys.executable),
        lock_name)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return 2
    extra = f' (not checked: {", ".join(sorted(ignore))})' if ignore else ''
    print(f'Installed packages match {lock_name}{extra}.')
    return 0


def freeze():
    """``pip freeze`` of this interpreter, less pip and the project."""
    out = subprocess.run(
        [sys.executable, '-m', 'pip', 'freeze', '--all', '--exclude-editable'],
        check=True,
        stdout=subprocess.PIPE,
        universal_newlines=True).stdout
    lines = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if '==' not in line:
            raise SystemExit(
                f'cannot lock {line!r}: it was not installed from a package '
                'index (a path, URL or VCS checkout), so no one else could '
                'install it by version; install a released version first.')
        if canonical(line.split('==', 1)[0]) not in NOT_LOCKED:
            lines.append(line)
    return sorted(lines, key=lambda s: canonical(s.split('==', 1)[0]))


def write(lock=LOCK):
    python = (f'{platform.python_implementation()} '
              f'{platform.python_version()} on {platform.system()} '
              f'{platform.machine()}')
    lines = freeze()
    with open(lock, 'w', encoding='utf-8') as f:
        f.write(HEADER.format(python=python))
        f.write('\n'.join(lines) + '\n')
    print(f'Wrote {len(lines)} packages to {_short(lock)}.')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--lock', default=LOCK, help='the lock file')
    parser.add_argument(
        '--write',
        action='store_true',
        help='write the lock from the packages of this interpreter')
    args = parser.parse_args(argv)
    if args.write:
        write(args.lock)
        return 0
    return check(args.lock)


if __name__ == '__main__':
    sys.exit(main())
