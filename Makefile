# Everything installs into a project virtualenv at .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LOCK := requirements/lock.txt
REQS := requirements/runtime.txt requirements/mmcv.txt requirements/tests.txt
LINT_PATHS := mmmosaic tools tests configs demo benchmarks

.PHONY: install resolve lock check-env test test-fast demo demo-seg lint format data clean benchmark-speed benchmark-speed-plain benchmark-quality gpu-check

# What we depend on, and why, is written by hand in REQS; LOCK holds every
# package of an environment whose tests passed, at the version it had, and is
# what `make install` installs. REQS are given to pip too, so a lock that no
# longer satisfies them fails here instead of installing. The last step fails
# if the environment still differs from the lock (e.g. a package the lock
# lacks was already in .venv); MMMOSAIC_UNLOCKED names packages installed
# outside the lock on purpose (docs/installation.md).
$(STAMP): $(LOCK) $(REQS) setup.cfg setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r $(LOCK) $(addprefix -r ,$(REQS))
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	$(PY) tools/check_env.py
	touch $(STAMP)

install: $(STAMP)

check-env: install
	$(PY) tools/check_env.py

# Refreshing the lock (docs/installation.md): `make resolve` installs
# REQS alone, with the newest versions they allow for whatever .venv does not
# have yet (remove .venv first to re-resolve everything); once `make test
# MMMOSAIC_UNLOCKED=all` passes, `make lock` writes what .venv holds to LOCK.
resolve:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(addprefix -r ,$(REQS))
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

lock:
	@test -x $(PY) || { echo "$(VENV) does not exist: make resolve first"; exit 2; }
	$(PY) tools/check_env.py --write

# One pytest worker a core (pytest-xdist); PYTEST_WORKERS=0 runs the suite
# in this process alone. Tests marked xdist_group (the Slurm cluster's) share
# one worker.
PYTEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# The edit-test loop: every test but the slow end-to-end ones (marker
# `slow` in setup.cfg); `make test` runs them all and is what CI runs.
test-fast: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not slow"

data: install
	$(PY) tools/dataset_converters/fetch_mnist.py --out-dir data

demo: data
	$(PY) demo/mnist_fashion_demo.py

demo-seg: data
	$(PY) demo/canvas_segmentation_demo.py

# MosaicKD against KD on the OOD images, phase by phase with the compute
# floor: the MNIST demo, then CIFAR-10 (animals <- vehicles) if CIFAR10_ROOT
# names a CIFAR-10 image folder, and CamVid if PHOTOS_ROOT names a folder of
# unlabeled photographs (its OOD images; the speed runs read no CamVid
# frame). SPEED_ARGS adds options, e.g. SPEED_ARGS="--iters 2 --repeats 2".
SPEED_ARGS ?= --iters 5 --repeats 4 --threads 1
benchmark-speed: data
	$(PY) benchmarks/speed.py --setting mnist_fashion_400 \
	  $(if $(CIFAR10_ROOT),cifar10_animals) $(if $(PHOTOS_ROOT),camvid) \
	  $(if $(CIFAR10_ROOT),--data-root "$(CIFAR10_ROOT)") \
	  $(if $(PHOTOS_ROOT),--ood-root "$(PHOTOS_ROOT)") \
	  $(SPEED_ARGS)
	@[ -n "$(CIFAR10_ROOT)" ] || echo "cifar10_animals skipped: make benchmark-speed CIFAR10_ROOT=DIR runs it"
	@[ -n "$(PHOTOS_ROOT)" ] || echo "camvid skipped: make benchmark-speed PHOTOS_ROOT=DIR runs it"

# The framework's overhead: the demo's MosaicKD in mmengine's Runner against
# the same game in plain PyTorch (benchmarks/plain_loop.py).
benchmark-speed-plain: data
	$(PY) benchmarks/speed.py --vs-plain --iters 10 --repeats 5 --threads 1

# The two MNIST settings, then the CIFAR-10 ones if CIFAR10_ROOT names a
# CIFAR-10 image folder (train/<class>/*.jpg, test/<class>/*.jpg), with the
# photo setting if PHOTOS_ROOT names a folder of unlabeled photographs.
benchmark-quality: data
	$(PY) benchmarks/quality.py mnist_fashion --jobs 2
	$(PY) benchmarks/quality.py fashion_mnist --jobs 2
	@if [ -n "$(CIFAR10_ROOT)" ]; then \
	  $(PY) benchmarks/quality.py cifar10_animals --jobs 2 --data-root "$(CIFAR10_ROOT)" && \
	  $(PY) benchmarks/quality.py cifar10_digits --jobs 2 --data-root "$(CIFAR10_ROOT)"; \
	else \
	  echo "cifar10_animals, cifar10_digits skipped: make benchmark-quality CIFAR10_ROOT=DIR runs them"; \
	fi
	@if [ -n "$(CIFAR10_ROOT)" ] && [ -n "$(PHOTOS_ROOT)" ]; then \
	  $(PY) benchmarks/quality.py cifar10_photos --jobs 2 --data-root "$(CIFAR10_ROOT)" --ood-root "$(PHOTOS_ROOT)"; \
	else \
	  echo "cifar10_photos skipped: make benchmark-quality CIFAR10_ROOT=DIR PHOTOS_ROOT=DIR runs it"; \
	fi

# On a machine with an NVIDIA GPU: the tests marked gpu, then the paper's
# WRN-40-2 -> WRN-16-1 game (B=256, k=5) timed in fp32 and with --amp, with
# the 39,200-iteration schedule in GPU-hours (benchmarks/gpu_check.py; no
# download). Without a usable GPU it stops with one sentence saying why.
GPU_CHECK_ARGS ?=
gpu-check: install
	$(PY) benchmarks/gpu_check.py $(GPU_CHECK_ARGS)

lint: install
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive $(LINT_PATHS)

format: install
	$(VENV)/bin/isort $(LINT_PATHS)
	$(VENV)/bin/yapf --in-place --recursive $(LINT_PATHS)

clean:
	rm -rf $(VENV) work_dirs .pytest_cache
