# Everything installs into a project virtualenv at .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
LINT_PATHS := mmmosaic tools tests configs demo benchmarks

.PHONY: install test demo demo-seg lint format data clean benchmark-speed benchmark-quality

$(STAMP): requirements/runtime.txt requirements/mmcv.txt requirements/tests.txt setup.cfg setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/runtime.txt -r requirements/mmcv.txt -r requirements/tests.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

test: install
	$(PY) -m pytest

data: install
	$(PY) tools/dataset_converters/fetch_mnist.py --out-dir data

demo: data
	$(PY) demo/mnist_fashion_demo.py

demo-seg: data
	$(PY) demo/canvas_segmentation_demo.py

benchmark-speed: data
	$(PY) benchmarks/speed.py --iters 10 --repeats 5 --threads 1

# The two MNIST settings, then CIFAR-10 if CIFAR10_ROOT names a CIFAR-10
# image folder (train/<class>/*.jpg, test/<class>/*.jpg).
benchmark-quality: data
	$(PY) benchmarks/quality.py mnist_fashion --jobs 2
	$(PY) benchmarks/quality.py fashion_mnist --jobs 2
	@if [ -n "$(CIFAR10_ROOT)" ]; then \
	  $(PY) benchmarks/quality.py cifar10_animals --jobs 2 --data-root "$(CIFAR10_ROOT)"; \
	else \
	  echo "cifar10_animals skipped: make benchmark-quality CIFAR10_ROOT=DIR runs it"; \
	fi

lint: install
	$(VENV)/bin/flake8 $(LINT_PATHS)
	$(VENV)/bin/isort --check-only --diff $(LINT_PATHS)
	$(VENV)/bin/yapf --diff --recursive $(LINT_PATHS)

format: install
	$(VENV)/bin/isort $(LINT_PATHS)
	$(VENV)/bin/yapf --in-place --recursive $(LINT_PATHS)

clean:
	rm -rf $(VENV) work_dirs .pytest_cache
