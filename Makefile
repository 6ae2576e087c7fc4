# hvd — make setup | make run | make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
APT_PACKAGES := binutils-arm-none-eabi gcc-arm-none-eabi gcc-arm-linux-gnueabihf gdb-multiarch \
	qemu-system-arm telnet device-tree-compiler u-boot-tools cpio xz-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test test-fast system-deps images bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py hvd/cpu/_blockhook.c hvd/monitor/_fillcache.c hvd/monitor/_tlbop.c hvd/devices/_counter32k.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian packages the tests and the main job need (toolchains, gdb, QEMU as the referee).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq || echo "apt-get update reported errors; continuing with the lists it has"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The main job: a BeagleBoard-xM VM booting Debian's armmp kernel and a busybox initramfs,
# console (UART3) on this terminal; Ctrl-A x quits.
IMAGES ?= $(HOME)/.cache/hvd/images
APPEND ?= console=ttyO2,115200n8 earlycon=uart8250,mmio32,0x49020000
HVD_RUN_FLAGS ?=
run: setup system-deps
	$(VENV)/bin/hvd images fetch --dest $(IMAGES)
	$(VENV)/bin/hvd run --kernel $(IMAGES)/vmlinuz --dtb $(IMAGES)/omap3-beagle-xm.dtb \
		--initrd $(IMAGES)/initrd.img --append "$(APPEND)" $(HVD_RUN_FLAGS)

test: setup system-deps
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m 'not slow'

bench: setup system-deps
	$(VENV)/bin/hvd bench all

clean:
	rm -rf $(VENV) build *.egg-info
