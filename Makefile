# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of dmp.ko (what DKMS runs), and the project's entry points.
#
#   make [KDIR=/lib/modules/<release>/build]   build dmp.ko for a kernel
#   make demo      build the guest kernel, dmp.ko and show dmp working in a guest
#   make test      every test: host cargo tests and the guest suites
#   make bench     the benchmark (bench/results.md)

KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules modules_install clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $@

demo:
	scripts/demo

test:
	scripts/test

bench:
	scripts/bench

.PHONY: all modules modules_install clean demo test bench
