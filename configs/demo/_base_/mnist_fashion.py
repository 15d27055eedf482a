# MNIST is the in-domain task; Fashion-MNIST images are the out-of-domain
# data (their labels are never read). `python
# tools/dataset_converters/fetch_mnist.py` puts both under data/.
mnist_root = 'data/mnist'
fashion_root = 'data/fashion_mnist'
data_preparation = dict(
    train_dataloader='python tools/dataset_converters/fetch_mnist.py',
    val_dataloader='python tools/dataset_converters/fetch_mnist.py',
    test_dataloader='python tools/dataset_converters/fetch_mnist.py')

# MNIST statistics on the 0-255 scale.
data_preprocessor = dict(
    _scope_='mmpretrain',
    type='ClsDataPreprocessor',
    mean=[33.32],
    std=[78.57],
    num_classes=10)


def _classifier(channels):
    # mmmosaic's SmallConvNet and a linear head.
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor=data_preprocessor,
        backbone=dict(type='mmmosaic.SmallConvNet', channels=channels),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=channels[-1],
            loss=dict(type='CrossEntropyLoss')))


teacher = _classifier((16, 32, 64))
# About 1/4 of the teacher's parameters.
student = _classifier((8, 16, 32))

mnist_test = dict(
    batch_size=500,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        _scope_='mmpretrain',
        type='MNIST',
        data_root=mnist_root,
        split='test',
        test_mode=True,
        pipeline=[dict(type='PackInputs')]))
val_dataloader = mnist_test
test_dataloader = mnist_test
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
