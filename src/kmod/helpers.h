/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for the static inline functions and macros dmp needs.
 * Each one only forwards to the kernel API of the same name: no logic here.
 */
#ifndef DMP_HELPERS_H
#define DMP_HELPERS_H

#include <linux/types.h>
#include <linux/compiler_types.h>

struct bio;
struct completion;
struct block_device;
struct kobject;
struct module;

void dmp_bio_set_dev(struct bio *bio, struct block_device *bdev);
sector_t dmp_bdev_nr_sectors(struct block_device *bdev);
void dmp_log_warn(const char *text, size_t len);

void *dmp_kzalloc(size_t size);

u64 __percpu *dmp_alloc_percpu_u64(size_t count);
/* stats.rs FLUSH_CNT (a compile-time assertion in kapi/percpu.rs keeps them equal). */
#define DMP_FLUSH_SLOT 6
void dmp_percpu_add_bio(u64 __percpu *base, size_t i0, u64 v0, size_t i1, u64 v1,
			u64 flush);
/* stats.rs IN_FLIGHT (asserted in kapi/percpu.rs like DMP_FLUSH_SLOT). */
#define DMP_IN_FLIGHT_SLOT 42
void dmp_percpu_add_bio_start(u64 __percpu *base, size_t i0, u64 v0, size_t i1, u64 v1,
			      u64 flush);
/* stats.rs SlotAdd (#[repr(C)]: usize, u64). */
struct dmp_slot_add {
	size_t slot;
	u64 value;
};
void dmp_percpu_add_slots(u64 __percpu *base, const struct dmp_slot_add *adds, size_t n);
u64 *dmp_per_cpu_ptr(u64 __percpu *base, unsigned int cpu);
int dmp_next_possible_cpu(int prev);

/* dmp's two locks (DEFINE_MUTEX is a macro): see src/kmod/registry.rs. */
void dmp_table_lock(void);
void dmp_table_unlock(void);
void dmp_data_lock(void);
void dmp_data_unlock(void);

struct completion *dmp_kobjects_released_completion(void);

bool dmp_latency_param(void);

/*
 * Benchmark builds only (Kbuild DMP_ACCOUNTING / DMP_MICROBENCH; scripts/bench).
 * Not compiled into the dmp.ko that ships.
 */
#ifdef DMP_ACCT_spinlock
/* The single global spinlock of the comparison variant (DEFINE_SPINLOCK). */
void dmp_acct_lock(void);
void dmp_acct_unlock(void);
#endif
#ifdef DMP_ACCT_percpu_each
/* One this_cpu_add per call (the design before issue 13). */
void dmp_this_cpu_add(u64 __percpu *base, size_t idx, u64 val);
#endif
#ifdef DMP_MICROBENCH
unsigned int dmp_smp_processor_id(void);
unsigned int dmp_num_online_cpus(void);
void dmp_on_each_cpu(void (*func)(void *info), void *info, int wait);
#endif

#endif
