# ResNet-34 and ResNet-18 (CIFAR variants: 3x3 stem, no max-pool; global
# average pooling, so 64x64 input works) for the fine-grained rows, as
# variables `<network>_<data set>`: the CIFAR-100 networks of
# ./resnet34_cifar100.py / ./resnet18_cifar100.py with the data set's class
# count and preprocessor (../datasets/fine_grained_64.py).
#
# Inferred: the paper does not name the networks of these rows; ResNet-34
# -> ResNet-18 is the pair of its CIFAR-100 table that the authors' related
# data-free KD code also uses beyond CIFAR.
_base_ = [
    './resnet34_cifar100.py', './resnet18_cifar100.py',
    '../datasets/fine_grained_64.py'
]


def _for(network, preprocessor, num_classes):
    return dict(
        network,
        data_preprocessor=preprocessor,
        head=dict(network.head, num_classes=num_classes))


resnet34_cub200 = _for(_base_.resnet34_cifar100, _base_.cub200_preprocessor,
                       200)
resnet18_cub200 = _for(_base_.resnet18_cifar100, _base_.cub200_preprocessor,
                       200)
resnet34_stanford_dogs = _for(_base_.resnet34_cifar100,
                              _base_.stanford_dogs_preprocessor, 120)
resnet18_stanford_dogs = _for(_base_.resnet18_cifar100,
                              _base_.stanford_dogs_preprocessor, 120)
