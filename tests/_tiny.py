"""Tiny models and in-memory data shared by the tests."""
import copy
import importlib.util
import os.path as osp

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.hooks import Hook
from mmengine.optim import build_optim_wrapper

from mmmosaic.models.algorithms import PLAYERS
from mmmosaic.registry import DATASETS, HOOKS, MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_script(rel_path: str, name: str = None):
    """A script of the repository (``tools/...py``, ``benchmarks/...py``)
    imported as a module, under ``name`` (default: its file name)."""
    path = osp.join(ROOT, rel_path)
    name = name or osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PREPROCESSOR = dict(
    _scope_='mmpretrain',
    type='ClsDataPreprocessor',
    mean=[127.5],
    std=[64.0],
    num_classes=10)


def classifier(channels=(4, 8), num_classes=10):
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=PREPROCESSOR,
        backbone=dict(type='mmmosaic.SmallConvNet', channels=channels),
        head=dict(
            type='LinearClsHead',
            num_classes=num_classes,
            in_channels=channels[-1],
            loss=dict(type='CrossEntropyLoss')))


def mosaickd(**overrides):
    cfg = dict(
        type='MosaicKD',
        teacher=classifier((8, 16)),
        student=classifier((4, 8)),
        generator=dict(
            type='DCGANGenerator',
            img_size=16,
            out_channels=1,
            latent_dim=8,
            base_channels=8),
        discriminator=dict(
            type='PatchDiscriminator', in_channels=1, base_channels=8),
        student_steps=2,
        synthetic_batch_size=4,
        # N = B, the paper's half and half.
        ood_batch_size=4,
        allow_random_teacher=True)
    cfg.update(overrides)
    return copy.deepcopy(cfg)


def optim_wrapper_cfg(players=PLAYERS):
    adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
    cfgs = dict(
        generator=dict(optimizer=adam),
        discriminator=dict(optimizer=adam),
        student=dict(
            optimizer=dict(
                type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4)))
    return {k: cfgs[k] for k in players}


def build_game(model_overrides=None, players=None, seed=0):
    """A tiny :func:`mosaickd` model in training mode and the optimiser
    wrappers of its players (by default every player it has)."""
    torch.manual_seed(seed)
    model = MODELS.build(mosaickd(**(model_overrides or {})))
    players = players or [p for p in PLAYERS if getattr(model, p) is not None]
    optim = build_optim_wrapper(
        model,
        dict(
            constructor='PlayerOptimWrapperConstructor',
            **optim_wrapper_cfg(players)))
    model.train()
    return model, optim


@DATASETS.register_module(force=True)
class RandomUint8Images(BaseDataset):
    """Labelled random uint8 images of one shape, held in memory.

    Stands in for CIFAR-100 in teacher training (hence the labels) and for
    the OOD source (CIFAR-10, Fashion-MNIST, ...) of distillations.
    """

    def __init__(self, shape=(32, 32, 3), num_images: int = 16, **kwargs):
        self.shape = tuple(shape)
        self.num_images = num_images
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(0)
        return [
            dict(
                img=rng.integers(0, 256, self.shape, dtype=np.uint8),
                gt_label=i % 10) for i in range(self.num_images)
        ]


@DATASETS.register_module(force=True)
class RandomGrayImages(BaseDataset):
    """``num`` random uint8 images (16x16), with labels unless unlabeled."""

    def __init__(self, num=64, size=16, labeled=True, seed=0, **kwargs):
        self.num, self.size, self.labeled, self.seed = (num, size, labeled,
                                                        seed)
        super().__init__(**kwargs)

    def load_data_list(self):
        rng = np.random.default_rng(self.seed)
        items = []
        for i in range(self.num):
            item = dict(
                img=rng.integers(
                    0, 256, (self.size, self.size), dtype=np.uint8))
            if self.labeled:
                item['gt_label'] = i % 10
            items.append(item)
        return items


def ood_dataset(num=64, size=16):
    return dict(
        type='OODDataset',
        source=dict(type='RandomGrayImages', num=num, size=size, labeled=True),
        real_pipeline=[dict(type='mmpretrain.PackInputs')],
        student_pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=size, padding=2),
            dict(type='mmpretrain.RandomFlip', prob=0.5),
            dict(type='mmpretrain.PackInputs')
        ])


def write_runner_config(path,
                        work_dir,
                        max_iters=8,
                        ckpt_interval=2,
                        extra_hooks=(),
                        model_overrides=None,
                        student_images=4):
    """A complete tiny MosaicKD config file for tools/train.py runs.

    Its datasets live in this module, so the run needs ``tests`` on
    PYTHONPATH (``custom_imports`` names ``_tiny``). The loader gives
    ``student_images`` OOD images per student step besides D's ``B = 4``.
    """
    from mmengine.config import Config
    k, b = 2, 4
    # student_images is N, or under a synthetic warm-up a student step's
    # whole batch, B + N.
    ood = student_images
    if (model_overrides or {}).get('synthetic_warmup') is not None:
        ood = student_images - b
    cosine = [dict(type='CosineAnnealingLR', T_max=max_iters, by_epoch=False)]
    cfg = dict(
        custom_imports=dict(imports=['_tiny'], allow_failed_imports=False),
        default_scope='mmmosaic',
        work_dir=str(work_dir),
        randomness=dict(seed=0),
        model=dict(
            mosaickd(
                student_steps=k, synthetic_batch_size=b, ood_batch_size=ood),
            **(model_overrides or {})),
        train_dataloader=dict(
            batch_size=b + k * student_images,
            num_workers=0,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=ood_dataset()),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(
            constructor='PlayerOptimWrapperConstructor',
            **optim_wrapper_cfg()),
        param_scheduler=dict(
            generator=cosine, discriminator=cosine, student=cosine),
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(
                type='CheckpointHook',
                by_epoch=False,
                interval=ckpt_interval,
                max_keep_ckpts=-1,
                backend_args=dict(backend='atomic_local'))),
        custom_hooks=[
            dict(type='SafeCheckpointHook'),
            dict(type='RandomStateHook'), *extra_hooks
        ],
        log_processor=dict(by_epoch=False))
    Config(cfg).dump(str(path))
    return str(path)


@HOOKS.register_module(force=True)
class KillAtIterHook(Hook):
    """Fault injection: SIGKILL this process after iteration ``at``."""

    priority = 'LOWEST'

    def __init__(self, at):
        self.at = at

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            import os
            import signal
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module(force=True)
class RaiseAtIterHook(Hook):
    """Fault injection: raise an unexpected error after iteration ``at``."""

    priority = 'LOWEST'

    def __init__(self, at):
        self.at = at

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            raise RuntimeError(f'injected failure after iteration {self.at}')


@HOOKS.register_module(force=True)
class NonFiniteStudentLossHook(Hook):
    """Fault injection: the student's loss is NaN in iterations ``at``
    (1-based), so the game skips those student updates."""

    priority = 'LOWEST'

    def __init__(self, at):
        self.at = tuple(at)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 in self.at:
            loss = runner.model.student_loss
            loss.forward = lambda s, t: (s * float('nan')).sum()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        vars(runner.model.student_loss).pop('forward', None)


def write_idx(path, array) -> None:
    """Write ``array`` (uint8) as an IDX file, MNIST's format."""
    array = np.asarray(array, np.uint8)
    header = bytes([0, 0, 8, array.ndim]) + b''.join(
        int(d).to_bytes(4, 'big') for d in array.shape)
    with open(path, 'wb') as f:
        f.write(header + array.tobytes())


def write_test_config(path, base='./tiny.py'):
    """Write a config at ``path`` that inherits ``base`` (a runner config
    of :func:`write_runner_config` beside it) and adds a test loop on 8
    random gray images; returns ``path``."""
    path.write_text(
        f"_base_ = ['{base}']\n"
        'test_dataloader = dict(batch_size=8, num_workers=0, '
        "sampler=dict(type='DefaultSampler', shuffle=False), "
        "dataset=dict(type='RandomGrayImages', num=8, "
        "pipeline=[dict(type='mmpretrain.PackInputs')]))\n"
        "test_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))\n"
        "test_cfg = dict(type='TestLoop')\n")
    return path
