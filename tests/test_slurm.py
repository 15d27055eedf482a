"""tools/slurm_train.sh and tools/slurm_test.sh on a real Slurm cluster.

The module starts a single-node cluster on localhost (Debian's Slurm
packages, installed with apt-get when missing; skipped, with the reason,
where that is impossible): slurmctld and slurmd run from a temporary
folder with their own ports, no munge (auth/none) and no cgroups, and the
node declares two fake GPUs (``/dev/null``, ``/dev/zero``) so that the
scripts run exactly as on a GPU cluster (``--gres=gpu:2``) while the tasks
train on CPU with gloo. Both daemons are stopped through their pid files
afterwards.

1. a 2-task job trains a few iterations: both ranks ran (Slurm ranks 0
   and 1 of one job), a checkpoint is written, the exit status is 0, the
   players are identical on both ranks; slurm_test.sh evaluates it;
2. SIGTERM: a running job is cancelled (scancel), every rank saves the same
   checkpoint after the current iteration and exits cleanly; the job is
   resubmitted as a requeueable batch job (SBATCH=1), which resumes from
   it; the batch script's time-limit signal makes it checkpoint and
   requeue itself, and the requeued job resumes and finishes.
"""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time

import pytest
from dist_helpers import free_port, read_ranks, write_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# One pytest worker runs them all (make test's --dist loadgroup): one cluster
# and one apt-get at a time.
pytestmark = pytest.mark.xdist_group('slurm')
TOOLS = osp.join(ROOT, 'tools')
PACKAGES = ['slurm-wlm', 'slurmctld', 'slurmd', 'slurm-client']
BINARIES = [
    'slurmctld', 'slurmd', 'srun', 'sbatch', 'scancel', 'squeue', 'scontrol',
    'sinfo'
]
SEARCH_PATH = os.pathsep.join(
    [os.environ.get('PATH', ''), '/usr/sbin', '/sbin', '/usr/bin'])


def _which(name):
    return shutil.which(name, path=SEARCH_PATH)


def _install_slurm():
    """None when Slurm is usable, else why it is not."""
    if all(_which(b) for b in BINARIES):
        return None
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return 'Slurm is not installed and installing it needs root'
    if not _which('apt-get'):
        return 'Slurm is not installed and this system has no apt-get'
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    install = ['apt-get', 'install', '-y', *PACKAGES]
    log = ''
    for step in ([install], [['apt-get', 'update'], install]):
        ok = True
        for cmd in step:
            try:
                proc = subprocess.run(
                    cmd, env=env, capture_output=True, text=True, timeout=900)
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, log = False, str(exc)
                break
            log = proc.stdout[-1500:] + proc.stderr[-1500:]
            ok = ok and proc.returncode == 0
        if ok and all(_which(b) for b in BINARIES):
            return None
    return f'`apt-get install -y {" ".join(PACKAGES)}` failed: {log}'


CONF = """\
ClusterName=mmmosaic-test
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/none
AuthInfo=cred_expire=5
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
MpiDefault=none
MailProg=/bin/true
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=sched_interval=2
ReturnToService=2
KillWait=15
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 Gres=gpu:2 State=UNKNOWN
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP \
OverSubscribe=YES
"""
# Two fake GPUs: Slurm needs a device file for each.
GRES = ('NodeName=localhost Name=gpu File=/dev/null\n'
        'NodeName=localhost Name=gpu File=/dev/zero\n')


def _wait(predicate, timeout, what, poll=0.3):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f'timed out after {timeout} s waiting for {what}')


def _stop(pid_file):
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        end = time.time() + wait
        while time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


class Cluster:

    def __init__(self, root):
        self.root = str(root)
        self.conf = osp.join(self.root, 'slurm.conf')
        self.env = dict(os.environ, SLURM_CONF=self.conf, PATH=SEARCH_PATH)

    def run(self, *cmd, **kwargs):
        return subprocess.run(
            list(cmd),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=kwargs.pop('timeout', 30),
            **kwargs)

    def node_state(self):
        proc = self.run('sinfo', '-h', '-o', '%T')
        return proc.stdout.strip()

    def start(self):
        for sub in ('state', 'spool'):
            os.makedirs(osp.join(self.root, sub), exist_ok=True)
        with open(self.conf, 'w') as f:
            f.write(
                CONF.format(
                    root=self.root,
                    ctld_port=free_port(),
                    slurmd_port=free_port()))
        with open(osp.join(self.root, 'gres.conf'), 'w') as f:
            f.write(GRES)
        ctld = self.run(_which('slurmctld'), '-f', self.conf)
        slurmd = self.run(_which('slurmd'), '-f', self.conf, '-N', 'localhost')
        try:
            _wait(lambda: self.node_state() == 'idle', 30, 'an idle node')
        except AssertionError:
            logs = ''.join(
                open(osp.join(self.root, name)).read()[-1500:]
                for name in ('slurmctld.log', 'slurmd.log')
                if osp.exists(osp.join(self.root, name)))
            self.stop()
            pytest.fail(f'the test Slurm cluster did not come up (node '
                        f'{self.node_state()!r}): {ctld.stderr} '
                        f'{slurmd.stderr} {logs}')

    def jobs(self, name=None):
        args = ['squeue', '-h', '-o', '%i %T']
        if name:
            args += ['-n', name]
        out = self.run(*args).stdout.split('\n')
        return dict(line.split() for line in out if line.strip())

    def stop(self):
        try:
            for job in self.jobs():
                self.run('scancel', job)
            _wait(lambda: not self.jobs(), 30, 'the jobs to end')
        except (AssertionError, OSError, subprocess.SubprocessError):
            pass
        _stop(osp.join(self.root, 'slurmd.pid'))
        _stop(osp.join(self.root, 'slurmctld.pid'))


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    reason = _install_slurm()
    if reason:
        print(f'\nSKIPPED Slurm tests: {reason}')
        pytest.skip(reason)
    if os.geteuid() != 0:
        reason = 'slurmd of the test cluster must run as root'
        print(f'\nSKIPPED Slurm tests: {reason}')
        pytest.skip(reason)
    start = time.time()
    slurm = Cluster(tmp_path_factory.mktemp('slurm'))
    slurm.start()
    print(f'\nSlurm cluster up in {time.time() - start:.1f} s')
    yield slurm
    slurm.stop()


def _script_env(slurm, **extra):
    env = dict(slurm.env)
    env.update(
        PYTHONPATH=osp.join(ROOT, 'tests'),
        PYTHON=sys.executable,
        OMP_NUM_THREADS='1',
        PYTHONWARNINGS='ignore',
        PYTHONUNBUFFERED='1',
        GPUS='2',
        GPUS_PER_NODE='2',
        CPUS_PER_TASK='1',
        PORT=str(free_port()))
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _iters(records):
    return [r['iter'] for r in records if r['event'] == 'iter']


@pytest.mark.slow
def test_slurm_train_two_tasks_then_slurm_test(cluster, tmp_path):
    work = tmp_path / 'work'
    config = write_config(
        tmp_path / 'cfg.py',
        work,
        max_iters=4,
        ckpt_interval=2,
        with_test=True)
    start = time.time()
    proc = subprocess.run([
        osp.join(TOOLS, 'slurm_train.sh'), 'ci', 'mmmosaic-train', config,
        str(work)
    ],
                          env=_script_env(cluster),
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=150)
    out = proc.stdout + proc.stderr
    print(f'\nslurm_train.sh, 2 tasks, 4 iterations: '
          f'{time.time() - start:.1f} s')
    assert proc.returncode == 0, out[-4000:]
    assert (work / 'iter_4.pth').is_file() and (work / 'iter_2.pth').is_file()

    ranks = read_ranks(work)
    assert sorted(ranks) == [0, 1], out[-3000:]
    starts = [ranks[r][0] for r in (0, 1)]
    assert [s['slurm_procid'] for s in starts] == ['0', '1']
    assert starts[0]['slurm_job_id'] == starts[1]['slurm_job_id']
    assert all(s['world_size'] == 2 for s in starts)
    assert _iters(ranks[0]) == _iters(ranks[1]) == [1, 2, 3, 4]
    assert ranks[0][-1]['event'] == ranks[1][-1]['event'] == 'end'
    assert ranks[0][-1]['params'] == ranks[1][-1]['params']

    start = time.time()
    proc = subprocess.run([
        osp.join(TOOLS, 'slurm_test.sh'), 'ci', 'mmmosaic-test', config,
        str(work / 'iter_4.pth'), '--work-dir',
        str(tmp_path / 'test')
    ],
                          env=_script_env(cluster),
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=150)
    out = proc.stdout + proc.stderr
    print(f'slurm_test.sh, 2 tasks: {time.time() - start:.1f} s')
    assert proc.returncode == 0, out[-4000:]
    assert 'accuracy/top1' in out


@pytest.mark.slow
def test_sigterm_checkpoints_then_resume_and_requeue(cluster, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    config = write_config(
        tmp_path / 'cfg.py', work, max_iters=30, ckpt_interval=1000)
    (work / 'slow').touch()  # iterations take 0.5 s until it is removed
    began = time.time()

    # -- a foreground job (srun), cancelled while it trains
    name = f'mmmosaic-cancel-{os.getpid()}'
    log = open(tmp_path / 'cancelled.log', 'w')
    job = subprocess.Popen(
        [osp.join(TOOLS, 'slurm_train.sh'), 'ci', name, config,
         str(work)],
        env=_script_env(cluster),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT)
    try:
        _wait(
            lambda: all(
                len(_iters(read_ranks(work).get(r, []))) >= 2 for r in (0, 1)),
            90, 'two iterations on both ranks')
        job_id = _wait(lambda: list(cluster.jobs(name)), 10, 'the job id')[0]
        cluster.run('scancel', job_id)
        status = job.wait(timeout=60)
    finally:
        if job.poll() is None:
            job.kill()
        log.close()
    out = (tmp_path / 'cancelled.log').read_text()
    ranks = read_ranks(work)
    stop = ranks[0][-1]
    assert stop['event'] == 'end', out[-3000:]
    n = stop['iter']
    assert 2 <= n < 30
    assert ranks[1][-1]['event'] == 'end' and ranks[1][-1]['iter'] == n
    assert ranks[0][-1]['params'] == ranks[1][-1]['params']
    assert f'Received SIGTERM: saved {work}/iter_{n}.pth' in out
    assert (work / f'iter_{n}.pth').is_file()
    assert (work / 'last_checkpoint').read_text().endswith(f'iter_{n}.pth')
    assert status == 0, out[-3000:]  # the ranks stopped cleanly
    print(f'\ncancelled after iteration {n}, checkpoint written: '
          f'{time.time() - began:.1f} s')

    # -- resubmitted as a requeueable batch job; it resumes from iter n
    proc = subprocess.run([
        osp.join(TOOLS, 'slurm_train.sh'), 'ci', 'mmmosaic-requeue', config,
        str(work)
    ],
                          env=_script_env(cluster, SBATCH=1),
                          cwd=ROOT,
                          capture_output=True,
                          text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    batch_id = proc.stdout.strip().split(';')[0]
    assert batch_id.isdigit(), proc.stdout
    batch_out = work / f'slurm-{batch_id}.out'

    def resumed_and_trained():
        ranks = read_ranks(work)
        return all(
            [r['iter']
             for r in ranks.get(k, []) if r['event'] == 'start'][-1:] == [n]
            and _iters(ranks[k])[-1] >= n + 2 for k in (0, 1))

    _wait(resumed_and_trained, 90, 'the batch job to resume and train')
    (work / 'slow').unlink()
    # What Slurm sends SIGNAL_MARGIN s before the time limit (--signal=B:)
    cluster.run('scancel', '--batch', '--signal=USR1', batch_id)
    _wait(lambda: batch_id not in cluster.jobs(), 120,
          'the requeued job to finish')
    out = batch_out.read_text()
    print(f'requeued, resumed and finished: {time.time() - began:.1f} s')
    assert 'slurm_train.sh: requeueing job' in out, out[-3000:]
    assert out.count('Received SIGTERM: saved') == 1, out[-3000:]
    assert f'resumed epoch: 0, iter: {n}' in out
    assert (work / 'iter_30.pth').is_file(), out[-3000:]

    ranks = read_ranks(work)
    for k in (0, 1):
        starts = [r['iter'] for r in ranks[k] if r['event'] == 'start']
        assert len(starts) == 3 and starts[0] == 0 and starts[1] == n
        m = starts[2]
        assert m > n + 1
        assert f'resumed epoch: 0, iter: {m}' in out
        ends = [r['iter'] for r in ranks[k] if r['event'] == 'end']
        assert ends == [n, m, 30]
        # one job id for the batch job, before and after its requeue
        ids = {r['slurm_job_id'] for r in ranks[k] if r['event'] == 'start'}
        assert len(ids) == 2 and batch_id in ids
    assert ranks[0][-1]['params'] == ranks[1][-1]['params']
    # the ranks keep drawing different noise after each resume
    noise = [{
        r['iter']: r['noise']
        for r in ranks[k] if r['event'] == 'iter'
    } for k in (0, 1)]
    for it in (n + 1, m + 1, 30):
        assert noise[0][it] != noise[1][it], it
