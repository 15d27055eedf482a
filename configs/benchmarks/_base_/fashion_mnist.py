# The MNIST benchmark the other way round: Fashion-MNIST is the in-domain
# task and MNIST images are the out-of-domain data (labels never read).
# Fashion-MNIST statistics on the 0-255 scale.
fashion_preprocessor = dict(
    _scope_='mmpretrain',
    type='ClsDataPreprocessor',
    mean=[72.94],
    std=[90.02],
    num_classes=10)
fashion_test = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _scope_='mmpretrain',
        type='FashionMNIST',
        data_root='data/fashion_mnist',
        split='test',
        test_mode=True,
        pipeline=[dict(type='PackInputs')]))
