# Baseline: plain KD on the Fashion-MNIST images (temperature 5), the same
# student, the same number of student updates and images per update as
# mosaickd_mnist_fashion.py, no generator and no discriminator: that config
# with the baseline key (any MosaicKD config takes it, also as
# --cfg-options baseline=kd_ood; configs/README.md).
_base_ = ['./mosaickd_mnist_fashion.py']

baseline = 'kd_ood'
# No generator, so no mosaics (the checkpoint, random-state and SIGTERM
# hooks are added by tools/train.py for every training run).
custom_hooks = []
