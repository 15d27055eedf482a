# Teacher of the Fashion-MNIST benchmark: the demo's MNIST teacher network,
# trained on Fashion-MNIST with labels (supervised).
_base_ = ['../demo/teacher_mnist.py', './_base_/fashion_mnist.py']

model = dict(data_preprocessor=_base_.fashion_preprocessor)
train_dataloader = dict(
    dataset=dict(type='FashionMNIST', data_root='data/fashion_mnist'))
# mmengine's Runner hands the top-level data_preprocessor to a model that
# has none (MosaicKD's own); replace the demo's MNIST one.
data_preprocessor = _base_.fashion_preprocessor
val_dataloader = _base_.fashion_test
test_dataloader = _base_.fashion_test
