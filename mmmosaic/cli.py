"""How every command-line tool reports a failure (one rule, one place).

The tools (``tools/``, ``benchmarks/``, ``demo/``) wrap their ``main`` with
:func:`tool_main` and build their parser with :class:`ArgumentParser`:

* A mistake the user can fix (a :class:`MosaicError`, a bad argument, a path
  that is missing or in the way, a ``type`` no registry knows, a config key
  a class does not take) prints one sentence ``error: ...`` on stderr naming
  the file, key or value and what to do; exit status 2.
* Anything else prints one line with the exception's type and message and
  the file the full traceback was written to (the run's log when a Runner
  started, else a file in the work dir, else a temporary file); exit
  status 1.
* ``--debug`` (every tool has it) or ``MMMOSAIC_DEBUG=1`` prints the full
  traceback on stderr as well.
* Python warnings of the libraries underneath (deprecations, mostly) are
  not printed; after a successful run one ``note:`` line counts them, and
  ``--debug`` shows them as Python does.

A tool tells the boundary what it knows with :func:`note`: the work dir,
the Runner (whose log gets the traceback) and a hint to add after a failure
(e.g. which checkpoint a resume would continue from).
"""
import argparse
import contextlib
import datetime
import errno
import functools
import logging
import os
import os.path as osp
import re
import sys
import tempfile
import traceback
import warnings
from typing import Callable, Optional

from mmmosaic.compat import raised_by_build, registry_miss
from mmmosaic.errors import MosaicError

__all__ = [
    'ArgumentParser', 'tool_main', 'note', 'output_dir', 'ToolFailed',
    'DEBUG_ENV', 'DictAction', 'parse_cfg_options', 'add_cfg_options',
    'add_common_args', 'parse_tool_args', 'check_config_file', 'LAUNCHERS'
]

#: Environment variable that turns on full tracebacks, like ``--debug``.
DEBUG_ENV = 'MMMOSAIC_DEBUG'
USER_ERROR = 2
UNEXPECTED = 1
INTERRUPTED = 130
#: The ``--launcher`` choices of every tool.
LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')

_context = {}


class ToolFailed(Exception):
    """Another tool this one ran failed and has already said why.

    Reported as ``error: <message>`` with ``status`` (the other tool's), no
    traceback of this process: it would only show where it was waited for.
    """

    def __init__(self, message: str, status: int = UNEXPECTED):
        super().__init__(message)
        self.status = status if status in (USER_ERROR,
                                           UNEXPECTED) else UNEXPECTED


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with ``--debug`` and one-line errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument(
            '--debug',
            action='store_true',
            help=f'print full tracebacks (same as {DEBUG_ENV}=1)')

    def error(self, message):
        message = str(message).rstrip('.')
        self.exit(USER_ERROR, f'error: {message}; see {self.prog} --help.\n')


class DictAction(argparse.Action):
    """mmengine's ``--cfg-options`` parser (imported when an option is
    given, so that ``--help`` imports no mmengine); an item without ``=``
    is an argument error (one line) instead of a ValueError traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            if '=' not in item:
                raise argparse.ArgumentError(
                    self, f'{item!r} is not KEY=VALUE; write e.g. '
                    'train_cfg.max_iters=1000')
        from mmengine.config import DictAction as MMDictAction
        MMDictAction(
            self.option_strings, self.dest,
            nargs=self.nargs)(parser, namespace, values, option_string)


def parse_cfg_options(items) -> dict:
    """``['key=value', ...]`` as ``--cfg-options`` parses them."""
    from mmengine.config import DictAction as MMDictAction
    options = {}
    for item in items:
        if '=' not in item:
            raise MosaicError(f'--cfg-options item {item!r} is not KEY=VALUE; '
                              'write e.g. train_cfg.max_iters=1000.')
        key, value = item.split('=', 1)
        options[key] = MMDictAction._parse_iterable(value)
    return options


def add_cfg_options(parser) -> None:
    """``--cfg-options KEY=VALUE ...``, for tools that read a config."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. model.teacher_ckpt=PATH')


def add_common_args(parser) -> None:
    """Arguments every training/testing tool shares: --cfg-options,
    --launcher, rank."""
    add_cfg_options(parser)
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(parser):
    """Parse, and expose ``--local-rank`` as torch.distributed expects."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def check_config_file(path: str) -> str:
    """Stop with one sentence if the config ``path`` is not a file (before
    anything heavy is imported: an argument error comes at once)."""
    if osp.isdir(path):
        raise MosaicError(
            f'Config {path!r} is a folder; give a config file such as '
            'configs/mosaickd/wrn40_2_wrn16_1_cifar100.py.')
    if not osp.isfile(path):
        raise MosaicError(
            f'Config file {path!r} does not exist; give a path such as '
            'configs/mosaickd/wrn40_2_wrn16_1_cifar100.py.')
    return path


def note(work_dir: Optional[str] = None,
         runner=None,
         on_failure: Optional[Callable[[], Optional[str]]] = None) -> None:
    """Record what a failure report should use.

    Args:
        work_dir: Folder for the traceback file if no run log exists.
        runner: An mmengine Runner; its log file receives the traceback.
        on_failure: Called after a failure; returns a clause to add to the
            message (or None), e.g. the checkpoint to resume from.
    """
    if runner is not None:
        _context['log_handler'] = _log_handler(runner)
        work_dir = work_dir or getattr(runner, 'work_dir', None)
    if work_dir is not None:
        _context['work_dir'] = work_dir
    if on_failure is not None:
        _context['on_failure'] = on_failure


def output_dir(path: str, flag: str) -> str:
    """Create the folder ``path`` given by ``flag``; refuse a file there."""
    if osp.exists(path) and not osp.isdir(path):
        raise MosaicError(f'{flag} {path!r} is a file; give a folder (it is '
                          'created if missing).')
    os.makedirs(path, exist_ok=True)
    return path


def tool_main(main: Callable) -> Callable:
    """Run ``main`` under the rule above; returns the exit status.

    Use as ``@tool_main`` on a tool's ``main`` and end the script with
    ``sys.exit(main())``. ``main`` raises on failure; what it returns on
    success is the status if it is an int, else 0.
    """

    @functools.wraps(main)
    def wrapper(*args, **kwargs):
        argv = kwargs.get('argv', args[0] if args else None)
        if not isinstance(argv, (list, tuple)):
            argv = sys.argv[1:]
        debug = '--debug' in argv or os.environ.get(
            DEBUG_ENV, '').strip().lower() not in ('', '0', 'false', 'no')
        _context.clear()
        try:
            with _quiet_warnings(debug):
                result = main(*args, **kwargs)
        except SystemExit as exc:  # argparse, --help, an explicit exit
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
                return UNEXPECTED
            return exc.code or 0
        except KeyboardInterrupt:
            _say('interrupted' + _hint())
            return INTERRUPTED
        except Exception as exc:
            return _report(exc, debug)
        finally:
            sys.stdout.flush()
        if isinstance(result, int) and not isinstance(result, bool):
            return result
        return 0

    return wrapper


@contextlib.contextmanager
def _quiet_warnings(debug: bool):
    """Keep the Python warnings of the libraries underneath (deprecations,
    mostly) out of the way: after a successful run one line counts them;
    ``--debug`` shows them as Python does."""
    if debug:
        yield
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        yield
    kinds = {(w.category.__name__, _first_line(w.message, 80)) for w in caught}
    if kinds:
        first = ': '.join(sorted(kinds)[0])
        print(
            f'note: {len(kinds)} warning(s) of the libraries underneath were '
            f'hidden (e.g. {first}); --debug shows them.',
            file=sys.stderr)


# ----------------------------------------------------------------- report
def _say(message: str) -> None:
    sys.stdout.flush()
    print(f'error: {message}', file=sys.stderr, flush=True)


def _one_line(text: str, limit: Optional[int] = None) -> str:
    text = ' '.join(str(text).split())
    if limit is None or len(text) <= limit:
        return text
    return text[:limit - 3] + '...'


def _first_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return _one_line(lines[0], limit) if lines else ''


def _hint() -> str:
    hook = _context.get('on_failure')
    if hook is None:
        return ''
    try:
        extra = hook()
    except Exception:  # a hint must never hide the real error
        return ''
    return f'; {extra}' if extra else ''


def _report(exc: BaseException, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, ToolFailed):
        _say(_one_line(str(exc)).rstrip('.') + _hint() + '.')
        return exc.status
    message = str(exc) if isinstance(exc,
                                     MosaicError) else user_error_message(exc)
    if message is not None:
        _say(_one_line(message).rstrip('.') + _hint() + '.')
        return USER_ERROR
    path = _write_traceback(exc)
    where = (f'full traceback in {path}'
             if path else 'the traceback could not be written')
    how = ('printed above' if debug else f'--debug or {DEBUG_ENV}=1 prints it')
    text = _first_line(exc)
    _say(f'{type(exc).__name__}' + (f': {text}' if text else '') +
         f' ({where}; {how}){_hint()}.')
    return UNEXPECTED


def _log_handler(runner) -> Optional[logging.FileHandler]:
    """The handler writing the Runner's log file on this process, if any."""
    logger = getattr(runner, 'logger', None)
    for handler in getattr(logger, 'handlers', ()):
        if isinstance(handler, logging.FileHandler):
            return handler
    return None


def _write_traceback(exc: BaseException) -> Optional[str]:
    """Append the traceback to the run log, or write it to a new file."""
    stamp = datetime.datetime.now().strftime('%Y%m%d_%H%M%S')
    rank = os.environ.get('RANK')
    header = (f'\n{stamp} {osp.basename(sys.argv[0] or "tool")} failed'
              f'{f" on rank {rank}" if rank else ""}:\n')
    text = header + ''.join(traceback.format_exception(exc))
    handler = _context.get('log_handler')
    if handler is not None:
        log = handler.baseFilename
        try:
            handler.flush()
            with open(log, 'a') as f:
                f.write(text)
            return log
        except OSError:
            pass
    work_dir = _context.get('work_dir')
    suffix = f'_rank{rank}' if rank else ''
    if work_dir and osp.isdir(work_dir):
        path = osp.join(work_dir, f'traceback_{stamp}{suffix}.txt')
        try:
            with open(path, 'a') as f:
                f.write(text)
            return path
        except OSError:
            pass
    try:
        fd, path = tempfile.mkstemp(
            prefix=f'mmmosaic_traceback_{stamp}{suffix}_', suffix='.txt')
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        return path
    except OSError:
        return None


# ------------------------------------------------------ user-error shapes
_CLASS = re.compile(r'(\w+)\.__init__\(\) (.*)$', re.S)
_UNEXPECTED_KW = re.compile(r"unexpected keyword argument '(\w+)'")
_MISSING_ARGS = re.compile(
    r'missing \d+ required (?:positional |keyword-only )?'
    r'arguments?: (.+)$')


def user_error_message(exc: BaseException) -> Optional[str]:
    """One sentence for an exception a user can fix, else None.

    Recognises what mmengine raises for a mistyped ``type`` or config key
    and the operating system's errors about a path.
    """
    missing = registry_miss(exc)
    if missing:
        name, registry = missing
        owner = _scope_having(name, registry)
        if owner:
            return (f'type {name!r} is not in the {registry} registry '
                    f'but in {owner}\'s; add _scope_={owner!r} to the '
                    'config dict that names it (e.g. the teacher or '
                    'student model dict)')
        return (f'type {name!r} is not in the {registry} registry; '
                'check its spelling in the config or --cfg-options, or '
                'import the module that registers it with custom_imports')
    if isinstance(exc, TypeError) and raised_by_build(exc):
        match = _CLASS.search(str(exc))
        if match:
            cls, reason = match.groups()
            unexpected = _UNEXPECTED_KW.search(reason)
            if unexpected:
                return (f'{cls} takes no argument {unexpected.group(1)!r}; '
                        'check the spelling of that key in the config or '
                        '--cfg-options')
            missing = _MISSING_ARGS.search(reason)
            if missing:
                return (f'{cls} needs {missing.group(1).strip()}; add it to '
                        f'its entry in the config')
    download = _download_message(exc)
    if download:
        return download
    if isinstance(exc, OSError) and exc.filename:
        return _path_message(exc)
    return None


def _download_message(exc: BaseException) -> Optional[str]:
    """One sentence for a failed download of weights (a player's
    ``pretrained`` checkpoint, a ``teacher_ckpt`` URL), naming what was
    fetched: the checkpoint name mmengine was given and the URL."""
    import urllib.error
    if not isinstance(exc, urllib.error.URLError):
        return None
    name = url = None
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        where = frame.f_locals
        if (name is None and frame.f_code.co_name == 'load_checkpoint'
                and isinstance(where.get('filename'), str)):
            name = where['filename']
        if url is None and isinstance(where.get('url'), str):
            url = where['url']
        tb = tb.tb_next
    if name is None and url is None:
        return None
    what = repr(name or url)
    if name and url and name != url:
        what += f' ({url})'
    reason = getattr(exc, 'reason', None) or exc
    try:
        import torch
        cache = osp.join(torch.hub.get_dir(), 'checkpoints')
    except Exception:  # only for the hint
        cache = "torch hub's cache"
    return (f'downloading {what} failed ({_one_line(reason)}); connect this '
            f'machine to the network, put the file in {cache}, or do '
            'without it: a player\'s pretrained weights by setting its '
            'pretrained to None (e.g. model.student.pretrained=None), a '
            'teacher by a local model.teacher_ckpt')


#: Packages whose registries a missing type is looked for in.
_SCOPES = ('mmpretrain', 'mmseg', 'mmmosaic', 'mmengine')


def _scope_having(name: str, registry: str) -> Optional[str]:
    """The scope among :data:`_SCOPES` whose registry of the same kind as
    ``registry`` (``mmmosaic::model``) has ``name``, if one does."""
    import mmengine.registry as root
    kind = registry.split('::')[-1]
    parent = next(
        (r for r in vars(root).values() if isinstance(r, root.Registry)
         and r.name == kind and r.parent is None), None)
    if parent is None:
        return None
    for scope in _SCOPES:
        if f'{scope}::' in registry:
            continue
        try:
            with parent.switch_scope_and_registry(scope) as found:
                found.import_from_location()
                if found.scope == scope and name in found.module_dict:
                    return scope
        except Exception:  # a package that is not installed
            continue
    return None


def _path_message(exc: OSError) -> str:
    path = str(exc.filename)
    if isinstance(exc, (NotADirectoryError, FileExistsError)):
        blocker = path
        while blocker and not osp.exists(blocker):
            parent = osp.dirname(blocker)
            if parent == blocker:
                break
            blocker = parent
        if blocker and osp.exists(blocker) and not osp.isdir(blocker):
            inside = '' if blocker == path else f' (to hold {path!r})'
            return (f'{blocker!r} is a file where a folder is needed{inside}; '
                    'give another path or move that file')
    if isinstance(exc, IsADirectoryError):
        return f'{path!r} is a folder, not a file; give a file path'
    if isinstance(exc, FileNotFoundError):
        return f'{path!r} does not exist; check the path'
    if isinstance(exc, PermissionError):
        return (f'no permission to use {path!r}; choose another path or fix '
                'its permissions')
    if exc.errno == errno.ENOSPC:
        return (f'no space left on the device holding {path!r}; free some '
                'space and run again')
    reason = exc.strerror or type(exc).__name__
    return f'{path!r} could not be used ({reason}); check the path'
