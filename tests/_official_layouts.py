"""Tiny copies of public data set releases, in their official layouts.

Each writer makes a few images in exactly the files and folders the
release has (names, formats, array shapes and dtypes), so that the dataset
classes, the converters and the configs of the paper's settings are tested
on what a user downloads.
"""
import os
import os.path as osp
import pickle

import numpy as np
from PIL import Image

CUB_CLASSES = ('001.Black_footed_Albatross', '002.Laysan_Albatross',
               '003.Sooty_Albatross')
DOG_SYNSETS = ('n02085620-Chihuahua', 'n02085782-Japanese_spaniel',
               'n02085936-Maltese_dog')
PLACES_TRAIN = ('a/airfield', 'a/alley', 'b/bakery/shop')


def _image(path, size, seed):
    rng = np.random.default_rng(seed)
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (*size, 3), np.uint8)).save(path)


def write_cub(root, per_class=3):
    """``CUB_200_2011``: images/<class>/*.jpg and the three id tables; the
    first image of each class is a test image, the others train images."""
    images, labels, splits = [], [], []
    for label, folder in enumerate(CUB_CLASSES, 1):
        for i in range(per_class):
            name = f'{folder}/{folder[4:]}_{i:04d}_{label}{i}.jpg'
            _image(osp.join(root, 'images', name), (20, 28), len(images))
            image_id = len(images) + 1
            images.append(f'{image_id} {name}')
            labels.append(f'{image_id} {label}')
            splits.append(f'{image_id} {int(i > 0)}')
    for name, lines in (('images.txt', images), ('image_class_labels.txt',
                                                 labels),
                        ('train_test_split.txt', splits)):
        with open(osp.join(root, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return str(root)


def _cell(strings):
    """A MATLAB cell array of strings as scipy writes and reads it."""
    cell = np.empty((len(strings), 1), dtype=object)
    for i, s in enumerate(strings):
        cell[i, 0] = np.array([s])
    return cell


def write_dogs(root, per_class=3):
    """Stanford Dogs: Images/<synset>/*.jpg, train_list.mat, test_list.mat
    (file_list, annotation_list, labels); the first image of each breed is
    a test image."""
    from scipy.io import savemat
    lists = dict(train=([], []), test=([], []))
    for label, synset in enumerate(DOG_SYNSETS, 1):
        for i in range(per_class):
            name = f'{synset}/{synset.split("-")[0]}_{100 + i}.jpg'
            _image(osp.join(root, 'Images', name), (30, 22), 10 * label + i)
            files, labels = lists['test' if i == 0 else 'train']
            files.append(name)
            labels.append(label)
    for split, (files, labels) in lists.items():
        savemat(
            osp.join(root, f'{split}_list.mat'),
            dict(
                file_list=_cell(files),
                annotation_list=_cell([f[:-4] for f in files]),
                labels=np.array(labels, dtype=np.float64)[:, None]))
    return str(root)


def downsampled_batch(num, side=32, seed=0, mean=True):
    rng = np.random.default_rng(seed)
    batch = dict(
        data=rng.integers(0, 256, (num, 3 * side * side), np.uint8),
        labels=[int(v) for v in rng.integers(1, 1001, num)])
    if mean:
        batch['mean'] = batch['data'].mean(axis=0)
    return batch


def write_downsampled_imagenet(root, per_batch=2, side=32):
    """``Imagenet32_train/train_data_batch_{1..10}`` and
    ``Imagenet32_val/val_data``: pickled dicts of numpy arrays."""
    train = osp.join(root, f'Imagenet{side}_train')
    val = osp.join(root, f'Imagenet{side}_val')
    os.makedirs(train)
    os.makedirs(val)
    for i in range(1, 11):
        with open(osp.join(train, f'train_data_batch_{i}'), 'wb') as f:
            pickle.dump(downsampled_batch(per_batch, side, i), f)
    with open(osp.join(val, 'val_data'), 'wb') as f:
        pickle.dump(downsampled_batch(per_batch, side, 0, mean=False), f)
    return str(root)


def write_svhn(root, num=6):
    """``train_32x32.mat`` and ``test_32x32.mat``: X uint8 [32, 32, 3, N],
    y [N, 1] in 1..10 (10 = digit 0)."""
    from scipy.io import savemat
    os.makedirs(root, exist_ok=True)
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        savemat(
            osp.join(root, f'{split}_32x32.mat'),
            dict(
                X=rng.integers(0, 256, (32, 32, 3, num), np.uint8),
                y=np.arange(1, num + 1, dtype=np.uint8)[:, None] % 10 + 1))
    return str(root)


def write_places365(root, per_class=2):
    """The "small images" release: data_256/<letter>/<class>/*.jpg (train,
    some classes one level deeper) and a flat val_256/ folder; images are
    not square here, to exercise the crop."""
    for c, folder in enumerate(PLACES_TRAIN):
        for i in range(per_class):
            _image(
                osp.join(root, 'data_256', folder, f'{i + 1:08d}.jpg'),
                (40, 56), c * 10 + i)
    for i in range(per_class):
        _image(
            osp.join(root, 'val_256', f'Places365_val_{i + 1:08d}.jpg'),
            (48, 36), 100 + i)
    return str(root)


def write_imagenet_folder(root, per_class=3):
    """ILSVRC-2012 train/: <wnid>/<wnid>_<n>.JPEG, images of any size, a
    greyscale one among them (ImageNet has some)."""
    for c, wnid in enumerate(('n01440764', 'n01443537')):
        for i in range(per_class):
            path = osp.join(root, wnid, f'{wnid}_{100 + i}.JPEG')
            _image(path, (40 + 8 * i, 52), 10 * c + i)
    grey = osp.join(root, 'n01443537', 'n01443537_999.JPEG')
    _image(grey, (36, 36), 99)
    with Image.open(grey) as image:
        image.convert('L').save(grey, format='JPEG')
    return str(root)


#: The configs of the paper's settings that tests/test_paper_settings.py
#: trains on these fixtures, with tiny networks in place of the real ones;
#: tests/test_configs.py leaves them out of its full-size sweep (their
#: networks are those of the CIFAR-10 settings it sweeps, or are built by
#: test_paper_settings.py).
PAPER_SETTING_PATTERNS = (
    'mosaickd/*_cifar100_*.py',
    'mosaickd/*_cub200.py',
    'mosaickd/*_stanford_dogs.py',
    'mosaickd/*_imagenet32.py',
    'baselines/kd_ood_*.py',
    'baselines/kd_indomain_*.py',
    'baselines/dfq_*.py',
    'teachers/*_cub200.py',
    'teachers/*_stanford_dogs.py',
    'teachers/*_imagenet32.py',
)


def paper_setting_configs(config_root):
    """Paths of the configs :data:`PAPER_SETTING_PATTERNS` names."""
    import glob
    return sorted({
        path
        for pattern in PAPER_SETTING_PATTERNS
        for path in glob.glob(osp.join(config_root, pattern))
    })


def write_all(root):
    """Every release above under ``root``, and the Places365 folders the
    converter writes from it; returns the folders by name."""
    from _tiny import load_script
    converter = load_script('tools/dataset_converters/places365.py',
                            'places365_converter')
    root = str(root)
    folders = dict(
        cub200=write_cub(osp.join(root, 'CUB_200_2011')),
        stanford_dogs=write_dogs(osp.join(root, 'StanfordDogs')),
        imagenet32=write_downsampled_imagenet(osp.join(root, 'imagenet32')),
        svhn=write_svhn(osp.join(root, 'svhn')),
        imagenet=write_imagenet_folder(osp.join(root, 'imagenet', 'train')),
        places365=write_places365(osp.join(root, 'places365_src')))
    for size in (32, 64):
        folders[f'places365_{size}'] = osp.join(root, f'places365_{size}')
        converter.convert(
            osp.join(folders['places365'], 'data_256'),
            folders[f'places365_{size}'], size)
    return folders
