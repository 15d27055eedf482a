"""A misspelled model-zoo config name gets the nearest real one."""
import pytest

from mmmosaic.errors import MosaicError
from mmmosaic.models.zoo import zoo_config_file


@pytest.mark.parametrize(
    'typo,meant',
    [('mmpretrain::resnet/resnt18_8xb16_cifar10.py',
      'mmpretrain::resnet/resnet18_8xb16_cifar10.py'),
     ('mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscape-512x1024.py',
      'mmseg::mobilenet_v2/mobilenet-v2-d8_fcn_4xb2-80k_cityscapes-512x1024'
      '.py')],
    ids=['mmpretrain', 'mmseg'])
def test_a_misspelled_zoo_config_gets_the_nearest_name(typo, meant):
    with pytest.raises(MosaicError) as error:
        zoo_config_file(typo, 'model.teacher')
    assert str(error.value).endswith(f"did you mean '{meant}'?")


def test_a_name_near_none_gets_no_guess():
    with pytest.raises(
            MosaicError, match='check the name against its '
            'configs folder'):
        zoo_config_file('mmpretrain::nothing/like_this.py', 'model.teacher')
