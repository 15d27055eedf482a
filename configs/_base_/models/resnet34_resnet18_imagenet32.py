# ResNet-34 and ResNet-18 (CIFAR variants: 3x3 stem, no max-pool) for the
# ImageNet 32x32 row, as variables `<network>_imagenet32`: the CIFAR-100
# networks of ./resnet34_cifar100.py / ./resnet18_cifar100.py with 1000
# classes and the preprocessor of ../datasets/imagenet32.py.
#
# Inferred: the paper does not name the networks of this row; ResNet-34 ->
# ResNet-18 is the pair of its CIFAR-100 table that the authors' related
# data-free KD code also uses beyond CIFAR.
_base_ = [
    './resnet34_cifar100.py', './resnet18_cifar100.py',
    '../datasets/imagenet32.py'
]


def _for(network):
    return dict(
        network,
        data_preprocessor=_base_.imagenet32_preprocessor,
        head=dict(network.head, num_classes=1000))


resnet34_imagenet32 = _for(_base_.resnet34_cifar100)
resnet18_imagenet32 = _for(_base_.resnet18_cifar100)
