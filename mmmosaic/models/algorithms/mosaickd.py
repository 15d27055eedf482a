"""The MosaicKD four-player game as an mmengine model.

Players: generator G, patch discriminator D, frozen teacher T, student S.
One call of :meth:`MosaicKD.train_step` is one outer iteration of the game:
a D update, a G update and ``student_steps`` S updates (Fang et al. 2021).

The two baselines of the paper are the same game with players removed:
``generator=None`` is KD on out-of-domain data (only S steps, on OOD
images); ``discriminator=None`` and no OOD data is data-free adversarial KD
(DFAD: G plays against S through T, no local patch term). Adding the
``bn`` generator term (teacher BatchNorm statistics, off by default) to
DFAD, with the class balance, gives the DFQ baseline.
"""
import copy
import logging
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.dist import all_reduce
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapperDict
from torch.distributed._functional_collectives import all_gather_single

from mmmosaic.errors import MosaicError
from mmmosaic.models.losses import (AdversarialDisagreementLoss,
                                    BNStatisticsLoss, EntropyLoss,
                                    PatchAdversarialLoss, batchnorm_layers)
from mmmosaic.registry import MODELS
from mmmosaic.utils import unwrap_model
from ..zoo import resolve_players
from .batch_rule import (STUDENT_STEPS, SYNTHETIC_BATCH_SIZE, check_count,
                         check_ood_batch_size, split_loader_batch)
from .players import (check_normalisation, load_frozen_teacher, no_param_grads,
                      strip_wrapper_prefixes, warn_if_bf16_is_emulated,
                      with_scope)
from .synthetic_share import StudentBatch
from .task_logits import (check_task_mix, logits_of, match_student_to_teacher,
                          stack_for_preprocessor)

#: The players the game trains (the teacher is frozen), in the order of an
#: iteration's updates; also the keys of their optimiser wrappers.
PLAYERS = ('generator', 'discriminator', 'student')
GENERATOR_LOSSES = ('adv', 'align', 'local', 'balance', 'bn')
#: Weights the paper's numbers were produced with (the authors' command-line
#: defaults, 0.1/0.1/0 for adv/align/local, are not what the paper reports).
#: ``bn`` (teacher BatchNorm statistics) is not part of MosaicKD: it serves
#: the DFQ baseline only.
PAPER_LOSS_WEIGHTS = dict(adv=1.0, align=1.0, local=1.0, balance=10.0, bn=0.0)

#: How the student steps run the teacher: its targets need no autograd.
_teacher_mode = torch.inference_mode


@MODELS.register_module()
class MosaicKD(BaseModel):
    """Knowledge distillation from out-of-domain data by mosaicking.

    Args:
        teacher (dict): Config of any mmpretrain classifier or mmseg
            segmentor (``_scope_='mmpretrain'`` / ``'mmseg'``), or a
            reference to one, ``dict(cfg_path='mmpretrain::...')``
            (:mod:`mmmosaic.models.zoo`). Frozen.
        student (dict): Config of the student, same family as the teacher
            (or a reference).
        generator (dict, optional): Generator config; None for KD on OOD.
        discriminator (dict, optional): Patch discriminator config; None
            drops the local term (DFAD when there is no OOD data either).
        teacher_ckpt (str, optional): Teacher weights (a path, or a URL
            fetched once into torch hub's cache), loaded on CPU with
            ``weights_only=True``; the class names of its ``dataset_meta``
            become :attr:`dataset_meta`. Required unless
            ``allow_random_teacher`` or the teacher reference says
            ``pretrained=True``.
        student_steps (int): Student updates per outer iteration (k).
        synthetic_batch_size (int): Images G makes per D/G/S step (B).
        loss_weights (dict): Weights of the generator terms ``adv``,
            ``align``, ``local``, ``balance`` and ``bn`` (the teacher's
            BatchNorm statistics on generated images,
            :class:`~mmmosaic.models.losses.BNStatisticsLoss`; 0 unless
            given, used by the DFQ baseline).
        student_loss (dict): Student distillation loss config; its
            ``temperature`` applies to the whole student batch.
        balance_loss (dict): The class-balance term's config,
            :class:`~mmmosaic.models.losses.ClassBalanceLoss`; its ``dense``
            option says how a segmentation batch is pooled (``'pixels'``,
            the paper's term, or ``'presence'``, each class once per
            image). Weighted by ``loss_weights['balance']``.
        data_preprocessor (dict, optional): Defaults to a copy of the
            student's. A dict without ``type`` (what mmengine's Runner
            copies from a zoo config's top level) is refused.
        max_nonfinite_streak (int): A player's update whose loss is NaN/inf
            is skipped (and counted in ``skipped_updates``); after this many
            consecutive skipped outer iterations training stops with an
            error, leaving the last checkpoint as the last good one.
        allow_random_teacher (bool): Only for tests and smoke runs.
        sync_bn_players (Sequence[str]): Players (``generator``,
            ``discriminator``, ``student``) whose BatchNorm layers become
            ``torch.nn.SyncBatchNorm``, so that in multi-GPU training their
            batch statistics cover the global batch. GPU only (torch has no
            CPU SyncBN); single-process runs revert them to BatchNorm.
        ood_student_loss (dict, optional): Our departure: a loss of its
            own for the OOD images of the student's batch
            (:class:`StudentBatch`). None (the paper).
        synthetic_warmup (dict, optional): Our departure: the mosaics join
            the student's batch as G matures (:class:`SyntheticWarmup`).
            None (the paper).
        generator_warm_start (float): Our departure: the fraction of
            ``max_iters`` during which G and D play alone
            (:meth:`generator_warm_start_step`). 0 (the paper).
        ood_batch_size (int, optional): ``N``, the OOD images of each
            student update beside the ``B`` images G makes for it; the
            train dataloader gives ``B + k x N`` (the batch rule,
            :mod:`~mmmosaic.models.algorithms.batch_rule`, which
            tools/train.py applies before training). 0 (with a
            discriminator): the student trains on G's images alone.
            Required with OOD data; None only for the data-free baselines.
        teacher_bf16 (bool): Our departure, off by default: every teacher
            forward (:meth:`teacher_logits`) under bfloat16 autocast, with
            float32 logits. Faster on GPUs and CPUs with native bfloat16,
            much slower on CPUs that emulate it (a warning says so); the
            logits are rounded, so measure a setting's quality with it.

    Training data: each sample of the train dataloader is a dict with a
    ``real`` view (D's real images, not augmented) and a ``student`` view
    (augmented), see :class:`mmmosaic.datasets.OODDataset`. A batch holds
    ``B`` samples whose ``real`` views D sees (when there is a
    discriminator), followed by ``k`` chunks of ``N`` whose ``student``
    views join the synthetic images of the k student steps.
    """

    def __init__(self,
                 teacher: dict,
                 student: dict,
                 generator: Optional[dict] = None,
                 discriminator: Optional[dict] = None,
                 teacher_ckpt: Optional[str] = None,
                 student_steps: int = STUDENT_STEPS,
                 synthetic_batch_size: int = SYNTHETIC_BATCH_SIZE,
                 loss_weights: Optional[dict] = None,
                 student_loss: dict = dict(
                     type='KLDivergenceLoss', temperature=1.0),
                 balance_loss: dict = dict(type='ClassBalanceLoss'),
                 data_preprocessor: Optional[dict] = None,
                 max_nonfinite_streak: int = 20,
                 allow_random_teacher: bool = False,
                 sync_bn_players: Sequence[str] = (),
                 ood_student_loss: Optional[dict] = None,
                 synthetic_warmup: Optional[dict] = None,
                 generator_warm_start: float = 0.0,
                 ood_batch_size: Optional[int] = None,
                 teacher_bf16: bool = False,
                 init_cfg=None):
        players = resolve_players(
            dict(teacher=teacher, student=student, teacher_ckpt=teacher_ckpt))
        # First: with players of two tasks every other check misleads.
        check_task_mix(players['teacher'], players['student'])
        teacher = with_scope(players['teacher'], 'teacher')
        student = with_scope(players['student'], 'student')
        teacher_ckpt = players['teacher_ckpt']
        if isinstance(data_preprocessor,
                      dict) and not data_preprocessor.get('type'):
            raise MosaicError(
                'model.data_preprocessor has no type (mmengine\'s Runner '
                'copies a config\'s top-level data_preprocessor there, and '
                'zoo configs used as _base_ leave one without a type); set '
                'data_preprocessor = None at the top level of the config, or '
                'give teacher and student as dict(cfg_path=...) instead of '
                'inheriting zoo configs.')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)

        self.loss_weights = self._check_loss_weights(loss_weights)
        self.student_steps = check_count('student_steps', student_steps)
        self.synthetic_batch_size = check_count('synthetic_batch_size',
                                                synthetic_batch_size)
        self.ood_batch_size = check_ood_batch_size(ood_batch_size,
                                                   discriminator is not None)
        if generator is None and discriminator is not None:
            raise MosaicError(
                'model.discriminator needs a model.generator: the '
                'discriminator judges generated images.')
        self.max_nonfinite_streak = max_nonfinite_streak
        if not isinstance(teacher_bf16, bool):
            raise MosaicError('model.teacher_bf16 must be True or False, got '
                              f'{teacher_bf16!r}.')
        self.teacher_bf16 = teacher_bf16
        self._bf16_cpu_checked = False
        self.skipped_updates = 0
        self._nonfinite_streak = 0

        self.teacher = MODELS.build(teacher)
        self.student = MODELS.build(student)
        if data_preprocessor is None:
            # The student's, as built: its class fills in what its config
            # leaves out (a zoo preprocessor has no type).
            self.data_preprocessor = copy.deepcopy(
                self.student.data_preprocessor)
        self.generator = MODELS.build(generator) if generator else None
        self.discriminator = (
            MODELS.build(discriminator) if discriminator else None)
        for name in sync_bn_players:
            if name not in PLAYERS or getattr(self, name) is None:
                raise MosaicError(
                    f'model.sync_bn_players names {name!r}, which is not a '
                    f'player of this model; use {", ".join(PLAYERS)}.')
            setattr(
                self, name,
                nn.SyncBatchNorm.convert_sync_batchnorm(getattr(self, name)))
        check_normalisation(
            self.data_preprocessor, teacher=self.teacher, student=self.student)
        self.register_state_dict_post_hook(strip_wrapper_prefixes)

        #: Class names (and palette) of the teacher's task, from its
        #: checkpoint; tools/train.py adds the in-domain dataset's if none.
        self.dataset_meta = load_frozen_teacher(self.teacher, teacher_ckpt,
                                                allow_random_teacher)
        if self.loss_weights['bn'] and not batchnorm_layers(self.teacher):
            raise MosaicError(
                f'model.loss_weights.bn is {self.loss_weights["bn"]} but the '
                'teacher has no BatchNorm layer with running statistics to '
                'match; set model.loss_weights.bn=0.')

        self.student_loss = MODELS.build(student_loss)
        self.adv_loss = AdversarialDisagreementLoss()
        self.align_loss = EntropyLoss()
        # ``--cfg-options model.balance_loss.dense=presence`` needs no type.
        self.balance_loss = MODELS.build(
            dict(dict(type='ClassBalanceLoss'), **balance_loss))
        self.patch_loss = PatchAdversarialLoss()
        self.bn_loss = BNStatisticsLoss()
        # Our departures from the paper's student batch (all off unless
        # configured): the game asks this object at each step.
        self.student_batch = StudentBatch(
            self.student_loss,
            student_loss,
            ood_student_loss,
            synthetic_warmup,
            generator_warm_start,
            generator=self.generator is not None,
            discriminator=self.discriminator is not None)
        # Registered here, so that checkpoints keep the warm-up's state.
        self.synthetic_warmup = self.student_batch.warmup

    # ------------------------------------------------------------------ setup
    @staticmethod
    def _check_loss_weights(loss_weights: Optional[dict]) -> dict:
        weights = dict(PAPER_LOSS_WEIGHTS)
        for name, value in (loss_weights or {}).items():
            if name not in GENERATOR_LOSSES:
                raise MosaicError(
                    f'model.loss_weights has an unknown key {name!r}; the '
                    f'generator losses are {", ".join(GENERATOR_LOSSES)}.')
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not value >= 0 or value == float('inf')):
                raise MosaicError(
                    f'model.loss_weights.{name} must be a finite number >= 0,'
                    f' got {value!r}.')
            weights[name] = float(value)
        return weights

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def init_weights(self):
        super().init_weights()
        self.teacher.eval()

    # ------------------------------------------------------------- helpers
    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Map generator output in [0, 1] into the preprocessor's space:
        ``(255 x - mean) / std``, or ``255 x`` for a preprocessor without
        ``mean`` / ``std`` (mmengine registers them only when it
        normalises)."""
        pixels = images * 255.0
        mean = getattr(self.data_preprocessor, 'mean', None)
        std = getattr(self.data_preprocessor, 'std', None)
        if mean is not None and std is not None:
            return (pixels - mean) / std
        return pixels

    def synthesize(self, batch_size: int, wrapped: bool = True):
        """``norm(G(z))`` for fresh noise ``z ~ N(0, I)``.

        Under DDP each process takes its own slice of a draw for the global
        batch, so the processes' noise differs even where their random
        states coincide (e.g. a state restored from rank 0's checkpoint).
        """
        generator = unwrap_model(self.generator)
        device = next(generator.parameters()).device
        if is_model_wrapper(self.generator):
            rank = dist.get_rank()
            z = generator.sample_noise(
                batch_size * dist.get_world_size(),
                device=device)[rank * batch_size:(rank + 1) * batch_size]
        else:
            z = generator.sample_noise(batch_size, device=device)
        return self.normalize((self.generator if wrapped else generator)(z))

    def teacher_logits(self, inputs: torch.Tensor) -> torch.Tensor:
        """The frozen teacher's logits for preprocessed ``inputs``:
        ``[N, K]`` for a classifier, ``[N, K, h, w]`` for a segmentor;
        computed under bfloat16 autocast with ``teacher_bf16`` (and then
        returned as float32)."""
        if not self.teacher_bf16:
            return logits_of(self.teacher, inputs)
        if inputs.device.type == 'cpu' and not self._bf16_cpu_checked:
            self._bf16_cpu_checked = True
            warn_if_bf16_is_emulated()
        with torch.autocast(
                device_type=inputs.device.type, dtype=torch.bfloat16):
            logits = logits_of(self.teacher, inputs)
        return logits.float()

    @staticmethod
    def _check_same_shape(fake: torch.Tensor, ood: torch.Tensor,
                          view: str) -> None:
        """Generated and OOD images must have the same ``[C, H, W]``."""
        if fake.shape[1:] != ood.shape[1:]:
            raise MosaicError(
                f'The generator makes images of shape {tuple(fake.shape[1:])}'
                f' but the OOD {view} view has {tuple(ood.shape[1:])}; make '
                'model.generator.img_size/out_channels match the data '
                'pipeline.')

    def split_batch(self, data: dict):
        """A loader batch (``OODDataset``'s ``real`` and ``student`` views)
        split by the batch rule (:func:`mmmosaic.models.batch_rule`) and
        preprocessed: D's real images (None without a discriminator) and
        the list of k OOD chunks, one per student step (None where the
        batch has no OOD images)."""
        num = len(data['real']['inputs']) if data and 'real' in data else 0
        num_real, _ = split_loader_batch(num, self.synthetic_batch_size,
                                         self.student_steps, self.discriminator
                                         is not None, self.student_batch.warmup
                                         is not None, self.ood_batch_size)
        real = None
        if num_real:
            real = self.preprocess_view(data['real'], slice(0, num_real))
        chunks: List[Optional[torch.Tensor]] = [None] * self.student_steps
        if num > num_real:
            student_view = self.preprocess_view(data['student'],
                                                slice(num_real, num))
            chunks = list(student_view.chunk(self.student_steps))
        return real, chunks

    def preprocess_view(self, view: dict, index: slice) -> torch.Tensor:
        """The images ``index`` of one view of a loader batch, through the
        model's data preprocessor as in training."""
        batch = dict(
            inputs=stack_for_preprocessor(self.data_preprocessor,
                                          view['inputs'][index]))
        if view.get('data_samples') is not None:
            batch['data_samples'] = view['data_samples'][index]
        return self.data_preprocessor(batch, training=True)['inputs']

    def _update(self, optim_wrapper, loss: torch.Tensor) -> None:
        """One player's backward and step, skipped if the loss is not
        finite on any rank (all ranks skip together, so DDP stays in step).
        """
        finite = torch.isfinite(loss.detach()).float()
        all_reduce(finite, op='min')
        if finite.item():
            optim_wrapper.update_params(loss)
            return
        optim_wrapper.zero_grad()
        self.skipped_updates += 1
        self._skipped_this_iter = True

    def training_counters(self) -> Dict[str, int]:
        """The counters of skipped updates that a resumed run continues
        from: ``skipped_updates`` and ``nonfinite_streak`` (consecutive
        outer iterations with a skipped update). They are not weights, so
        :class:`~mmmosaic.engine.RandomStateHook` carries them through
        checkpoints."""
        return dict(
            skipped_updates=self.skipped_updates,
            nonfinite_streak=self._nonfinite_streak)

    def load_training_counters(self, counters: Dict[str, int]) -> None:
        """Continue from :meth:`training_counters` of a checkpoint."""
        self.skipped_updates = int(counters['skipped_updates'])
        self._nonfinite_streak = int(counters['nonfinite_streak'])

    def _check_nonfinite_streak(self) -> None:
        if not self._skipped_this_iter:
            self._nonfinite_streak = 0
            return
        self._nonfinite_streak += 1
        print_log(
            f'Skipped an update with a non-finite loss ({self.skipped_updates}'
            ' so far).',
            logger='current',
            level=logging.WARNING)
        if self._nonfinite_streak >= self.max_nonfinite_streak:
            raise MosaicError(
                f'Losses were NaN or infinite in {self._nonfinite_streak} '
                'consecutive iterations, so training stopped (the last '
                'checkpoint is the last good state); lower the learning '
                'rates or model.loss_weights.')

    # ------------------------------------------------------------ the game
    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        real, ood_chunks = self.split_batch(data)
        self._skipped_this_iter = False
        start, in_warm_start = self.student_batch.warm_start_progress()
        log_vars = {}
        if self.generator is not None:
            with optim_wrapper['generator'].optim_context(self.generator):
                fake = self.synthesize(self.synthetic_batch_size)
            if self.discriminator is not None:
                log_vars.update(
                    self.discriminator_step(fake.detach(), real,
                                            optim_wrapper['discriminator']))
            generator_step = (
                self.generator_warm_start_step
                if in_warm_start else self.generator_step)
            log_vars.update(generator_step(fake, optim_wrapper['generator']))
        if not in_warm_start:
            log_vars.update(
                self._train_student(ood_chunks, optim_wrapper['student'],
                                    start))
        self._check_nonfinite_streak()
        if self.skipped_updates:
            log_vars['skipped_updates'] = torch.tensor(
                float(self.skipped_updates))
        return log_vars

    def _train_student(self, ood_chunks: List[Optional[torch.Tensor]],
                       optim_wrapper, start: int) -> Dict[str, torch.Tensor]:
        """The k student updates of an iteration, each on ``n`` of G's
        images and OOD images: ``n = B`` and the whole chunk in the paper;
        under a synthetic warm-up ``n`` is the schedule's and the chunk's
        first ``M - n`` images keep the batch at ``M``
        (:meth:`StudentBatch.split`)."""
        num_synthetic, ood_chunks, log_vars = self.student_batch.split(
            ood_chunks, self.synthetic_batch_size, start)
        losses = [
            self.student_step(chunk, optim_wrapper, num_synthetic)
            for chunk in ood_chunks
        ]
        log_vars['loss_student'] = torch.stack(losses).mean()
        return log_vars

    def discriminator_step(self, fake: torch.Tensor, real: torch.Tensor,
                           optim_wrapper) -> Dict[str, torch.Tensor]:
        r"""One update of the patch discriminator D.

        D learns OOD patches as real and generated patches as fake:

        .. math::

            L_D = \tfrac12 \big[\mathrm{BCE}(D(G(z)), 0)
                  + \mathrm{BCE}(D(x_{ood}), 1)\big]

        where ``BCE`` is summed over every patch logit and divided by the
        batch size (:class:`PatchAdversarialLoss`).

        Args:
            fake (Tensor): Normalised generated images ``[B, C, H, W]``,
                detached from G.
            real (Tensor): Preprocessed OOD images (the ``real`` view),
                same shape.
            optim_wrapper (OptimWrapper): D's optimiser wrapper.

        Returns:
            dict[str, Tensor]: ``loss_d``, detached.
        """
        self._check_same_shape(fake, real, 'real')
        with optim_wrapper.optim_context(self.discriminator):
            loss_fake = self.patch_loss(self.discriminator(fake), False)
            loss_real = self.patch_loss(self.discriminator(real), True)
            loss = (loss_fake + loss_real) / 2
        self._update(optim_wrapper, loss)
        return dict(loss_d=loss.detach())

    def generator_step(self, fake: torch.Tensor,
                       optim_wrapper) -> Dict[str, torch.Tensor]:
        r"""One update of the generator G.

        G fools D on every patch, makes T confident and class-balanced, and
        maximises the teacher/student disagreement; with a ``bn`` weight it
        also matches T's BatchNorm statistics (the DFQ baseline):

        .. math::

            L_G = w_{adv} L_{adv} + w_{align} L_{align}
                + w_{balance} L_{balance} + w_{local} L_{local}
                + w_{bn} L_{bn}

        with, for teacher and student logits :math:`t = T(G(z))`,
        :math:`s = S(G(z))`:

        - :math:`L_{adv} = -\mathrm{KL}(\sigma(t) \| \sigma(s))`, averaged
          over the batch (:class:`AdversarialDisagreementLoss`);
        - :math:`L_{align} = H(\sigma(t))`, the mean entropy of T's
          prediction (:class:`EntropyLoss`);
        - :math:`L_{balance} = \sum_c \bar p_c \log_2 \bar p_c` with
          :math:`\bar p = \overline{\sigma(t)}` the batch-mean prediction,
          i.e. minus its entropy in bits (:class:`ClassBalanceLoss`; under
          DDP it sees the global batch; with ``dense='presence'`` a
          segmentation batch counts each class once per image, by its
          largest probability);
        - :math:`L_{local} = \mathrm{BCE}(D(G(z)), 1)`, only with a
          discriminator (:class:`PatchAdversarialLoss`);
        - :math:`L_{bn}`, only when ``w_bn > 0``: over every call of a
          teacher BatchNorm layer, the Euclidean norms (not squared) of the
          differences between the per-channel mean and biased variance of
          its input and its running mean and variance, summed
          (:class:`BNStatisticsLoss`).

        :math:`L_{align}` is in nats, :math:`L_{balance}` in bits. Here and
        below :math:`G(z)` stands for the generated images mapped into the
        preprocessor's space (:meth:`normalize`), which is what T, S and D
        see.

        For segmentation the per-pixel terms average over pixels too. D's
        and S's weights get no gradients; gradients flow through them to G.

        Args:
            fake (Tensor): Normalised generated images ``[B, C, H, W]``,
                attached to G's graph.
            optim_wrapper (OptimWrapper): G's optimiser wrapper.

        Returns:
            dict[str, Tensor]: ``loss_g`` and each term (``loss_adv``,
            ``loss_align``, ``loss_balance``, and ``loss_local`` /
            ``loss_bn`` when used), detached.
        """
        student = unwrap_model(self.student)
        discriminator = unwrap_model(
            self.discriminator) if (self.discriminator is not None) else None
        w = self.loss_weights
        # Hooks on T's BatchNorm layers, only for this forward; each process
        # matches the statistics of its own batch.
        recorder = (
            self.bn_loss.record(self.teacher) if w['bn'] else nullcontext())
        with optim_wrapper.optim_context(self.generator), \
                no_param_grads(student, discriminator):
            with recorder as bn_stats:
                t_logits = self.teacher_logits(fake)
            s_logits = match_student_to_teacher(
                logits_of(student, fake), t_logits)
            self.student_batch.observe(t_logits, s_logits)
            # The balance term is not a mean over samples: under DDP it
            # must see the global batch (with gradients to each rank's own
            # samples) to equal the single-process term on the whole batch.
            # torch's differentiable all-gather hands each rank the sum of
            # every rank's gradients for its own samples.
            balance_logits = (
                all_gather_single(t_logits, 0, dist.group.WORLD)
                if is_model_wrapper(self.generator) else t_logits)
            losses = dict(
                loss_adv=self.adv_loss(s_logits, t_logits),
                loss_align=self.align_loss(t_logits),
                loss_balance=self.balance_loss(balance_logits))
            loss = (
                w['adv'] * losses['loss_adv'] +
                w['align'] * losses['loss_align'] +
                w['balance'] * losses['loss_balance'])
            if discriminator is not None:
                losses['loss_local'] = self.patch_loss(
                    discriminator(fake), True)
                loss = loss + w['local'] * losses['loss_local']
            if w['bn']:
                losses['loss_bn'] = self.bn_loss(bn_stats)
                loss = loss + w['bn'] * losses['loss_bn']
        self._update(optim_wrapper, loss)
        losses['loss_g'] = loss
        return {k: v.detach() for k, v in losses.items()}

    def generator_warm_start_step(self, fake: torch.Tensor,
                                  optim_wrapper) -> Dict[str, torch.Tensor]:
        r"""One update of G during its warm start: it only fools D.

        .. math:: L_G = L_{local} = \mathrm{BCE}(D(G(z)), 1)

        summed over every patch logit and divided by the batch size
        (:class:`PatchAdversarialLoss`), not weighted: G and D play a plain
        patch GAN on the OOD images, without the teacher or the student.
        D's weights get no gradients.

        Args:
            fake (Tensor): Normalised generated images ``[B, C, H, W]``,
                attached to G's graph.
            optim_wrapper (OptimWrapper): G's optimiser wrapper.

        Returns:
            dict[str, Tensor]: ``loss_g`` and ``loss_local``, detached.
        """
        discriminator = unwrap_model(self.discriminator)
        with optim_wrapper.optim_context(self.generator), \
                no_param_grads(discriminator):
            loss = self.patch_loss(discriminator(fake), True)
        self._update(optim_wrapper, loss)
        return dict(loss_g=loss.detach(), loss_local=loss.detach())

    def student_step(self,
                     ood: Optional[torch.Tensor],
                     optim_wrapper,
                     num_synthetic: Optional[int] = None) -> torch.Tensor:
        r"""One update of the student S.

        S imitates T on a batch of fresh mosaics (``B`` images from G,
        without gradients to G) followed by augmented OOD images:

        .. math::

            L_S = \mathrm{KD}\big(S(x), T(x)\big),\quad
            x = [\,G(z);\ x_{ood}\,]

        where KD is ``student_loss`` (by default the KL divergence of the
        predictions at temperature 1, :class:`KLDivergenceLoss`; per pixel for
        segmentation, after resizing S's logits to T's), or with an
        ``ood_student_loss`` another on the OOD images (:class:`StudentBatch`).

        Args:
            ood (Tensor, optional): This step's chunk of the OOD ``student``
                view, ``[N, C, H, W]``; None when the batch has no OOD
                images (data-free baselines).
            optim_wrapper (OptimWrapper): S's optimiser wrapper.
            num_synthetic (int, optional): How many of the ``B`` images G
                makes join the batch (the first ones; none are made for 0).
                Defaults to ``B``.

        Returns:
            Tensor: The student loss, detached.
        """
        if num_synthetic is None:
            num_synthetic = self.synthetic_batch_size
        if self.generator is None:
            num_synthetic = 0
        # Under --amp the student's optimiser context is autocast: G's pass
        # and T's forward for the student's batch run in it too.
        with torch.no_grad(), optim_wrapper.optim_context(self.student):
            parts = []
            if num_synthetic:
                # G makes its usual batch so that its BatchNorm sees B images.
                parts.append(
                    self.synthesize(self.synthetic_batch_size,
                                    wrapped=False)[:num_synthetic])
            if ood is not None:
                if parts:
                    self._check_same_shape(parts[0], ood, 'student')
                parts.append(ood)
            if not parts:
                raise MosaicError(
                    'MosaicKD has neither a generator nor OOD images to '
                    'train the student on; set model.generator or give the '
                    'train_dataloader an OODDataset.')
            inputs = torch.cat(parts)
        # The targets need no autograd at all: inference mode skips its
        # bookkeeping (the same arithmetic, a few % faster on CPU). The
        # clone makes them an ordinary tensor again, which any loss may
        # save for its backward.
        with _teacher_mode(), optim_wrapper.optim_context(self.student):
            t_logits = self.teacher_logits(inputs)
        t_logits = t_logits.clone()
        with optim_wrapper.optim_context(self.student):
            s_logits = match_student_to_teacher(
                logits_of(self.student, inputs), t_logits)
            loss = self.student_batch.loss(s_logits, t_logits, num_synthetic)
        self._update(optim_wrapper, loss)
        return loss.detach()

    # ------------------------------------------------------ val / test
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[Sequence] = None,
                mode: str = 'tensor'):
        """The student's forward, in every mode.

        Validation and test run the student, so the task's own metrics
        (mmpretrain ``Accuracy``, mmseg ``IoUMetric``) work unchanged.
        ``mode='loss'`` is therefore the student's own supervised loss on
        labelled ``data_samples`` (as mmpretrain / mmseg compute it), not
        the game's: MosaicKD trains through :meth:`train_step`, which
        never calls this method, and its losses are what
        :meth:`train_step` returns.
        """
        return self.student(inputs, data_samples, mode=mode)


def is_game_config(model_cfg) -> bool:
    """Whether ``model_cfg`` builds a :class:`MosaicKD` (or a subclass)."""
    model_type = model_cfg.get('type') if isinstance(model_cfg, dict) else None
    if isinstance(model_type, str):
        scope = model_cfg.get('_scope_')
        try:
            model_type = MODELS.get(model_type if '.' in model_type
                                    or not scope else f'{scope}.{model_type}')
        except KeyError:
            return False
    return isinstance(model_type, type) and issubclass(model_type, MosaicKD)
