# Supervised CIFAR-100 training of a teacher: ./sgd_240e.py (SGD 0.1, 240
# epochs, the learning rate divided by 10 at epochs 150, 180 and 210) on
# CIFAR-100's train split, batch 128, random crop + flip.
_base_ = ['./sgd_240e.py', '../../_base_/datasets/cifar100.py']
