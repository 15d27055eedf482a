# Baseline: DFQ at the budget of mosaickd_camvid_long.py (900 student
# updates): dfad_camvid_long.py with the generator terms of dfq_camvid.py.
_base_ = ['./dfad_camvid_long.py']

model = dict(loss_weights=dict(balance=6.02, bn=1.0))
