from .class_folders import ClassFolderSubset
from .cub import CUB200
from .downsampled_imagenet import DownsampledImageNet
from .metainfo import class_palette, declared_metainfo
from .mnist_canvas import MNISTCanvasDataset
from .nyu import NYUv2Dataset
from .ood_dataset import (NoImagesDataset, OODDataset, UnlabeledImageFolder,
                          UnreadableItems)
from .stanford_dogs import StanfordDogs
from .svhn import SVHN
from .transforms import GrayToColor

__all__ = [
    'UnlabeledImageFolder', 'OODDataset', 'NoImagesDataset', 'NYUv2Dataset',
    'MNISTCanvasDataset', 'ClassFolderSubset', 'CUB200', 'StanfordDogs',
    'DownsampledImageNet', 'SVHN', 'UnreadableItems', 'declared_metainfo',
    'class_palette', 'GrayToColor'
]
