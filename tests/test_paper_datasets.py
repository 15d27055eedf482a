"""The data sets of the paper's settings, read from their official layouts,
and the one-sentence errors for files that are missing or laid out
differently."""
import os
import os.path as osp
import pickle
import shutil

import numpy as np
import pytest
from _official_layouts import (CUB_CLASSES, DOG_SYNSETS, downsampled_batch,
                               write_places365)
from _tiny import load_script
from PIL import Image

from mmmosaic.datasets import (CUB200, SVHN, DownsampledImageNet, StanfordDogs,
                               UnlabeledImageFolder)
from mmmosaic.datasets.downsampled_imagenet import load_batch
from mmmosaic.errors import MosaicError

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture
def cub(official_data):
    return official_data['cub200']


@pytest.fixture
def dogs(official_data):
    return official_data['stanford_dogs']


@pytest.fixture
def imagenet32(official_data):
    return official_data['imagenet32']


@pytest.fixture
def svhn(official_data):
    return official_data['svhn']


def _copy(src, dst):
    return shutil.copytree(src, dst)


def _one_sentence(info, *fragments):
    message = str(info.value)
    assert '\n' not in message and message.count('; ') <= 2, message
    for fragment in fragments:
        assert fragment in message, message


# ------------------------------------------------------------ CUB-200-2011
def test_cub_reads_the_official_split_and_labels(cub):
    train, test = CUB200(cub, 'train'), CUB200(cub, 'test')
    assert (len(train), len(test)) == (6, 3)
    assert len(train.metainfo['classes']) == 200
    info = test.get_data_info(2)
    assert info['gt_label'] == 2
    assert osp.dirname(info['img_path']) == osp.join(cub, 'images',
                                                     CUB_CLASSES[2])
    assert {train.get_data_info(i)['gt_label'] for i in range(6)} == {0, 1, 2}


@pytest.mark.parametrize('damage,fragments', [
    (lambda r: os.remove(osp.join(r, 'train_test_split.txt')),
     ('train_test_split.txt', 'does not exist', 'CUB_200_2011')),
    (lambda r: shutil.rmtree(osp.join(r, 'images')),
     ('images', 'does not exist')),
    (lambda r: os.remove(
        osp.join(r, 'images', CUB_CLASSES[0],
                 sorted(os.listdir(osp.join(r, 'images', CUB_CLASSES[0])))[1])
    ), ('listed in images.txt does not exist', '1 of the 6')),
    (lambda r: open(osp.join(r, 'image_class_labels.txt'), 'a').write(
        '10 1\n'), ('image_class_labels.txt lists 10 image ids', )),
    (lambda r: open(osp.join(r, 'images.txt'), 'a').write('oops\n'),
     ("Line 10 of", "'<image id> <value>'")),
])
def test_cub_names_what_is_missing_or_wrong(cub, tmp_path, damage, fragments):
    root = _copy(cub, tmp_path / 'cub')
    damage(str(root))
    with pytest.raises(MosaicError) as info:
        CUB200(str(root), 'train')
    _one_sentence(info, *fragments)


# ---------------------------------------------------------- Stanford Dogs
def test_dogs_reads_the_mat_lists(dogs):
    train, test = StanfordDogs(dogs, 'train'), StanfordDogs(dogs, 'test')
    assert (len(train), len(test)) == (6, 3)
    assert train.metainfo['classes'][:3] == ('Chihuahua', 'Japanese_spaniel',
                                             'Maltese_dog')
    info = test.get_data_info(1)
    assert info['gt_label'] == 1
    assert info['img_path'].startswith(
        osp.join(dogs, 'Images', DOG_SYNSETS[1]))


def test_dogs_names_what_is_missing_or_wrong(dogs, tmp_path):
    root = str(_copy(dogs, tmp_path / 'dogs'))
    with pytest.raises(MosaicError) as info:
        StanfordDogs(str(tmp_path / 'nowhere'), 'train')
    _one_sentence(info, 'nowhere', 'does not exist', 'lists.tar')
    os.remove(osp.join(root, 'test_list.mat'))
    with pytest.raises(MosaicError) as info:
        StanfordDogs(root, 'test')
    _one_sentence(info, 'test_list.mat', 'does not exist')
    from scipy.io import savemat
    savemat(osp.join(root, 'test_list.mat'), dict(files=np.zeros(3)))
    with pytest.raises(MosaicError) as info:
        StanfordDogs(root, 'test')
    _one_sentence(info, 'has no file_list field')
    with open(osp.join(root, 'train_list.mat'), 'w') as f:
        f.write('not a MATLAB file')
    with pytest.raises(MosaicError) as info:
        StanfordDogs(root, 'train')
    _one_sentence(info, 'train_list.mat', 'not a readable MATLAB file')
    shutil.rmtree(osp.join(root, 'Images', DOG_SYNSETS[0]))
    shutil.copy(osp.join(dogs, 'train_list.mat'), root)
    with pytest.raises(MosaicError) as info:
        StanfordDogs(root, 'train')
    _one_sentence(info, DOG_SYNSETS[0], 'listed in train_list.mat',
                  '2 of the 6')


# ------------------------------------------------------ ImageNet 32x32
def test_downsampled_imagenet_reads_the_batches(imagenet32):
    train = DownsampledImageNet(imagenet32, 'train')
    val = DownsampledImageNet(imagenet32, 'val')
    assert (len(train), len(val)) == (20, 2)
    # Sample 5 is the second image of train_data_batch_3: RGB planes.
    batch = downsampled_batch(2, 32, 3)
    info = train.get_data_info(5)
    planes = batch['data'][1].reshape(3, 32, 32)
    assert info['img'].shape == (32, 32, 3)
    np.testing.assert_array_equal(info['img'][..., 0], planes[0])
    np.testing.assert_array_equal(info['img'][..., 2], planes[2])
    assert info['gt_label'] == batch['labels'][1] - 1


def test_downsampled_imagenet_npz_release_and_flat_layout(tmp_path):
    for i in range(1, 11):
        np.savez(tmp_path / f'train_data_batch_{i}.npz',
                 **downsampled_batch(1, 32, i))
    dataset = DownsampledImageNet(str(tmp_path), 'train')
    assert len(dataset) == 10
    assert dataset.get_data_info(0)['img'].dtype == np.uint8


class _Shell:
    """A pickle that runs a command when loaded."""

    def __reduce__(self):
        return (os.system, ('echo pwned > PWNED', ))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'val_data'
    with open(path, 'wb') as f:
        pickle.dump(dict(data=_Shell(), labels=[1]), f)
    with pytest.raises(MosaicError) as info:
        load_batch(str(path))
    _one_sentence(info, "val_data'", 'not a plain pickle of arrays', 'system')
    assert not (tmp_path / 'PWNED').exists()


def test_downsampled_imagenet_names_what_is_missing_or_wrong(
        imagenet32, tmp_path):
    root = str(_copy(imagenet32, tmp_path / 'in32'))
    os.remove(osp.join(root, 'Imagenet32_train', 'train_data_batch_7'))
    with pytest.raises(MosaicError) as info:
        DownsampledImageNet(root, 'train')
    _one_sentence(info, 'train_data_batch_7', '1 of the train batch files')
    shutil.rmtree(osp.join(root, 'Imagenet32_val'))
    with pytest.raises(MosaicError) as info:
        DownsampledImageNet(root, 'val')
    _one_sentence(info, "'val_data' is in none of", 'Imagenet32_val.zip')
    os.makedirs(osp.join(root, 'Imagenet32_val'))
    with open(osp.join(root, 'Imagenet32_val', 'val_data'), 'wb') as f:
        pickle.dump(dict(data=np.zeros((2, 5), np.uint8), labels=[1, 2]), f)
    with pytest.raises(MosaicError) as info:
        DownsampledImageNet(root, 'val')
    _one_sentence(info, 'data of shape (2, 5)')


# -------------------------------------------------------------------- SVHN
def test_svhn_reads_the_mat_file(svhn):
    from scipy.io import loadmat
    dataset = SVHN(svhn, 'train')
    mat = loadmat(osp.join(svhn, 'train_32x32.mat'))
    assert len(dataset) == 6
    info = dataset.get_data_info(4)
    np.testing.assert_array_equal(info['img'], mat['X'][..., 4])
    # y = 10 is the digit 0.
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(6)] == [int(y) % 10 for y in mat['y'].ravel()]


def test_svhn_names_what_is_missing_or_wrong(svhn, tmp_path):
    with pytest.raises(MosaicError) as info:
        SVHN(svhn, 'extra')
    _one_sentence(info, 'extra_32x32.mat', 'does not exist')
    from scipy.io import savemat
    savemat(tmp_path / 'train_32x32.mat',
            dict(X=np.zeros((3, 32, 32, 2), np.uint8), y=np.ones((2, 1))))
    with pytest.raises(MosaicError) as info:
        SVHN(str(tmp_path), 'train')
    _one_sentence(info, 'X of shape (3, 32, 32, 2)', '[32, 32, 3, N]')


# --------------------------------------------- Places365 converter
def test_places365_converter_writes_what_the_ood_folder_reads(tmp_path):
    converter = load_script('tools/dataset_converters/places365.py',
                            'places365_converter')
    src = write_places365(tmp_path / 'places365')
    dst = tmp_path / 'places365_64'
    counts = converter.convert(osp.join(src, 'data_256'), str(dst), 64)
    assert counts == dict(images=6, skipped=0)
    out = dst / 'b' / 'bakery' / 'shop' / '00000002.png'
    with Image.open(out) as image:
        assert image.size == (64, 64) and image.mode == 'RGB'
    # The centre square of the 56-wide, 40-high source, box-filtered.
    with Image.open(src + '/data_256/b/bakery/shop/00000002.jpg') as image:
        expected = np.asarray(
            image.convert('RGB').resize((64, 64),
                                        Image.BOX,
                                        box=(8, 0, 48, 40)))
    with Image.open(out) as image:
        np.testing.assert_array_equal(np.asarray(image), expected)
    folder = UnlabeledImageFolder(data_root=str(dst))
    assert len(folder) == 6
    # A second run keeps what exists; a missing source is one sentence.
    assert converter.convert(osp.join(src, 'data_256'), str(dst), 64) == dict(
        images=6, skipped=0)
    with pytest.raises(MosaicError) as info:
        converter.convert(str(tmp_path / 'nope'), str(dst), 32)
    _one_sentence(info, 'nope', 'does not exist')
    with pytest.raises(MosaicError) as info:
        converter.convert(src, osp.join(src, 'out'), 32)
    _one_sentence(info, 'is inside SRC')
