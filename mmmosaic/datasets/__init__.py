from .ood_dataset import (NoImagesDataset, OODDataset, UnlabeledImageFolder)

__all__ = ['UnlabeledImageFolder', 'OODDataset', 'NoImagesDataset']
