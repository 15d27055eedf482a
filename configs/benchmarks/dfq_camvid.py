# Baseline: DFQ on the CamVid benchmark: dfad_camvid.py with the generator
# terms of dfq_mnist.py, the teacher's BatchNorm statistics and the class
# balance (pooled over batch and pixels, as in MosaicKD's segmentation).
_base_ = ['./dfad_camvid.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
