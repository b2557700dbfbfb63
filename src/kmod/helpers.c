// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline functions and macros that bindgen
 * cannot bind. Each forwards to the kernel API it is named after; all of
 * dmp's logic is in Rust.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "helpers.h"

void dmp_bio_set_dev(struct bio *bio, struct block_device *bdev)
{
	bio_set_dev(bio, bdev);
}

sector_t dmp_bdev_nr_sectors(struct block_device *bdev)
{
	return bdev_nr_sectors(bdev);
}

void *dmp_kzalloc(size_t size)
{
	return kzalloc(size, GFP_KERNEL);
}

u64 __percpu *dmp_alloc_percpu_u64(size_t count)
{
	return __alloc_percpu(array_size(count, sizeof(u64)), __alignof__(u64));
}

/*
 * One bio's increments (stats.rs: Update) in one call: two slots given, and
 * the flush count, always in slot DMP_FLUSH_SLOT (checked against stats.rs
 * when the module is compiled). Six arguments: all passed in registers.
 */
void dmp_percpu_add_bio(u64 __percpu *base, size_t i0, u64 v0, size_t i1, u64 v1,
			u64 flush)
{
	this_cpu_add(base[i0], v0);
	this_cpu_add(base[i1], v1);
	this_cpu_add(base[DMP_FLUSH_SLOT], flush);
}

/*
 * The same for a request that will be timed to its completion: it is also
 * counted in flight, in slot DMP_IN_FLIGHT_SLOT.
 */
void dmp_percpu_add_bio_start(u64 __percpu *base, size_t i0, u64 v0, size_t i1, u64 v1,
			      u64 flush)
{
	this_cpu_add(base[i0], v0);
	this_cpu_add(base[i1], v1);
	this_cpu_add(base[DMP_FLUSH_SLOT], flush);
	this_cpu_inc(base[DMP_IN_FLIGHT_SLOT]);
}

/* A completion's increments (stats.rs: Done), or any list of them. */
void dmp_percpu_add_slots(u64 __percpu *base, const struct dmp_slot_add *adds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		this_cpu_add(base[adds[i].slot], adds[i].value);
}

u64 *dmp_per_cpu_ptr(u64 __percpu *base, unsigned int cpu)
{
	return per_cpu_ptr(base, cpu);
}

/* The next possible CPU after @prev (-1 to start), or -1 when there is none. */
int dmp_next_possible_cpu(int prev)
{
	unsigned int cpu = cpumask_next(prev, cpu_possible_mask);

	return cpu < nr_cpu_ids ? cpu : -1;
}

static DEFINE_MUTEX(dmp_table_mutex);
static DEFINE_MUTEX(dmp_data_mutex);

void dmp_table_lock(void)
{
	mutex_lock(&dmp_table_mutex);
}

void dmp_table_unlock(void)
{
	mutex_unlock(&dmp_table_mutex);
}

void dmp_data_lock(void)
{
	mutex_lock(&dmp_data_mutex);
}

void dmp_data_unlock(void)
{
	mutex_unlock(&dmp_data_mutex);
}

/*
 * The module parameter `latency` (module_param is a macro; the kernel crate of
 * 6.12 has no module parameters). Read once, when the target type registers.
 */
static bool latency;
module_param(latency, bool, 0444);
MODULE_PARM_DESC(latency,
		 "Time every request to its completion: request times, latency histograms, requests in flight, busy time and errors (costs about 340 instructions per I/O, 4 %; default off)");

bool dmp_latency_param(void)
{
	return latency;
}

/*
 * The package version, for modinfo and /sys/module/dmp/version (MODULE_VERSION
 * is a macro; the kernel crate's module! has no version field). Kbuild passes
 * the version dkms.conf carries.
 */
MODULE_VERSION(DMP_VERSION);

/* DECLARE_COMPLETION is a macro: see wait_for_kobject_releases in kapi/kobject.rs. */
static DECLARE_COMPLETION(dmp_kobjects_released);

struct completion *dmp_kobjects_released_completion(void)
{
	return &dmp_kobjects_released;
}

/* Benchmark builds only: see helpers.h. */
#ifdef DMP_ACCT_spinlock
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(dmp_acct_spinlock);

void dmp_acct_lock(void)
{
	spin_lock(&dmp_acct_spinlock);
}

void dmp_acct_unlock(void)
{
	spin_unlock(&dmp_acct_spinlock);
}
#endif

#ifdef DMP_ACCT_percpu_each
void dmp_this_cpu_add(u64 __percpu *base, size_t idx, u64 val)
{
	this_cpu_add(base[idx], val);
}
#endif

#ifdef DMP_MICROBENCH
#include <linux/smp.h>

/* Only called from an on_each_cpu() callback (interrupts off). */
unsigned int dmp_smp_processor_id(void)
{
	return smp_processor_id();
}

unsigned int dmp_num_online_cpus(void)
{
	return num_online_cpus();
}

void dmp_on_each_cpu(void (*func)(void *info), void *info, int wait)
{
	on_each_cpu(func, info, wait);
}
#endif

/*
 * dmp's kernel log messages: the text is formatted in Rust; printed with %s,
 * because a kernel built without Rust has no %pA (which the kernel crate's
 * pr_* macros use) and a self-contained dmp.ko must run there.
 */
void dmp_log_warn(const char *text, size_t len)
{
	pr_warn("dmp: %.*s\n", (int)len, text);
}
