# Baseline "KD on OOD data", VGG-11-BN -> ResNet-18 on CIFAR-100, an ImageNet
# subset as out-of-domain data (paper: 50.52 top-1 with a 71.32 teacher).
# The OOD images are the 50,000 of ImageNet this teacher is least sure about:
# write the subset file once per teacher with tools/select_ood_subset.py (see
# the base).
_base_ = [
    './_base_/kd_ood_cifar100_imagenet.py',
    '../_base_/models/vgg11_bn_cifar100.py',
    '../_base_/models/resnet18_cifar100.py',
]

model = dict(
    teacher=_base_.vgg11_bn_cifar100, student=_base_.resnet18_cifar100)
train_dataloader = dict(
    dataset=dict(
        subset_file='data/ood_subsets/imagenet_vgg11_bn_cifar100.json'))
