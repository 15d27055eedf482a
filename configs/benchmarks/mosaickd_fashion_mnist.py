# The Fashion-MNIST benchmark: configs/demo/mosaickd_mnist_fashion.py (400
# outer iterations) with the roles of the data sets swapped (Fashion-MNIST
# teacher, MNIST images as the out-of-domain data).
_base_ = ['../demo/mosaickd_mnist_fashion.py', './_base_/fashion_mnist.py']

model = dict(
    teacher=dict(data_preprocessor=_base_.fashion_preprocessor),
    student=dict(data_preprocessor=_base_.fashion_preprocessor))
train_dataloader = dict(
    dataset=dict(source=dict(type='MNIST', data_root='data/mnist')))
# mmengine's Runner hands the top-level data_preprocessor to a model that
# has none (MosaicKD's own); replace the demo's MNIST one.
data_preprocessor = _base_.fashion_preprocessor
val_dataloader = _base_.fashion_test
test_dataloader = _base_.fashion_test
