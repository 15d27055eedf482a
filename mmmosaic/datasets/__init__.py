from .class_folders import ClassFolderSubset
from .mnist_canvas import MNISTCanvasDataset, build_canvas_dataset
from .nyu import NYUv2Dataset
from .ood_dataset import NoImagesDataset, OODDataset, UnlabeledImageFolder

__all__ = [
    'UnlabeledImageFolder', 'OODDataset', 'NoImagesDataset', 'NYUv2Dataset',
    'MNISTCanvasDataset', 'build_canvas_dataset', 'ClassFolderSubset'
]
