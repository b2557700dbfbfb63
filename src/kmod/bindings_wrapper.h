/* SPDX-License-Identifier: GPL-2.0 */
/* The C APIs dmp uses; bindgen turns this into bindings_generated.rs. */
#include <linux/device-mapper.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include "helpers.h"
