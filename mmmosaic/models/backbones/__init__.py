from .small_convnet import SmallConvNet
from .wide_resnet import WideResNet_CIFAR

__all__ = ['SmallConvNet', 'WideResNet_CIFAR']
