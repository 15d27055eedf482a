# MosaicKD, ResNet-34 -> ResNet-18 on CUB-200-2011 at 64x64, Places365 at 64x64
# as out-of-domain data (paper: 26.11 top-1).
#
#   tar xzf CUB_200_2011.tgz -C data
#   python tools/train.py configs/teachers/resnet34_cub200.py
#   python tools/dataset_converters/places365.py SRC/data_256 \
#       data/places365_64 --size 64
#   python tools/select_ood_subset.py \
#       configs/mosaickd/resnet34_resnet18_cub200.py --num 5994 --out \
#       data/ood_subsets/places365_64_resnet34_cub200.json --cfg-options \
#       model.teacher_ckpt=work_dirs/resnet34_cub200/epoch_240.pth
#   python tools/train.py configs/mosaickd/resnet34_resnet18_cub200.py \
#       --cfg-options \
#       model.teacher_ckpt=work_dirs/resnet34_cub200/epoch_240.pth
#
# From the paper and its official code: the game (1 D, 1 G, 5 S updates an
# iteration), loss weights adv 1, align 1, local 1, balance 10, student KL at
# temperature 1, optimisers and cosine schedules, batch 256, z of 100
# dimensions, 200 epochs of the OOD set, and the OOD subset rule: the teacher's
# most uncertain OOD images, as many as the in-domain train set (5,994;
# tools/select_ood_subset.py).
# Inferred (the paper does not give the fine-grained protocol; the authors'
# related data-free KD code trains this data set at 64x64 and has Places365 at
# 64x64): the 64x64 data protocol (../_base_/datasets/fine_grained_64.py),
# Places365 at 64x64 as the OOD data, and ResNet-34 -> ResNet-18.
# Ours: the generator starts at 8x8 with 3 upsamplings (the official one has 2
# for 32x32); the discriminator has 3 stride-2 layers (22x22-pixel patches on
# 64x64 images, about the patch / image ratio of the official 10-pixel patches
# on 32x32); the teacher's recipe (configs/teachers/).
_base_ = ['./_base_/mosaickd_fine_grained_64.py']

teacher_config = 'configs/teachers/resnet34_cub200.py'
in_domain_data = ('tar xzf CUB_200_2011.tgz -C data')
data_preparation = dict(
    val_dataloader=in_domain_data,
    test_dataloader=in_domain_data,
    teacher_ckpt=f'python tools/train.py {teacher_config}')

# 200 epochs of the 5,994-image OOD subset in batches of 256.
iters_per_epoch = 24
max_iters = 200 * iters_per_epoch
val_interval = 5 * iters_per_epoch

model = dict(teacher=_base_.resnet34_cub200, student=_base_.resnet18_cub200)
train_dataloader = dict(
    dataset=dict(
        subset_file='data/ood_subsets/places365_64_resnet34_cub200.json'))
val_dataloader = dict(_base_.cub200_test, _delete_=True)
test_dataloader = val_dataloader

train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
