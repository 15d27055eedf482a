# Baseline: DFAD on the Fashion-MNIST benchmark (see dfad_mnist.py), with
# the budget of mosaickd_fashion_mnist.py (400 outer iterations).
_base_ = ['./dfad_mnist_400.py', './_base_/fashion_mnist.py']

model = dict(
    teacher=dict(data_preprocessor=_base_.fashion_preprocessor),
    student=dict(data_preprocessor=_base_.fashion_preprocessor))
# mmengine's Runner hands the top-level data_preprocessor to a model that
# has none (MosaicKD's own); replace the demo's MNIST one.
data_preprocessor = _base_.fashion_preprocessor
val_dataloader = _base_.fashion_test
test_dataloader = _base_.fashion_test
