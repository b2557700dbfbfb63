//! A model of the busy time (`BusyStamp`) and of the in-flight gauge
//! (`IN_FLIGHT`, `in_flight_gauge`) under concurrent requests, in place of
//! loom: loom needs the code under test to use its atomics, and stats.rs,
//! which the kernel compiles, cannot.
//!
//! What is modelled, step by step, as the module runs it (target.rs
//! `map_timed` and `end_io`, registry.rs `in_flight`, kapi/percpu.rs):
//!
//! * per-CPU slot arrays ([`NCPU`] CPUs); a request is mapped on one CPU
//!   and may complete on another;
//! * at map: the clock is read; `BusyStamp::start`'s `advance` loads the
//!   stamp, then compares and swaps it (two steps, so that another request
//!   can move the stamp between them); only when it moved the stamp, the
//!   in-flight sum is read one CPU after another (one step per CPU, as
//!   `sum_slot` does); then `add_started` adds `account`'s increments and
//!   1 in flight to the mapping CPU, and the busy time to add (the module
//!   adds it with a second call right after; here one step);
//! * at completion: the clock is read; `BusyStamp::end` loads, then swaps
//!   the stamp; `complete`'s increments are added to the completing CPU;
//! * a reader summing every slot one CPU after another (a sysfs read);
//! * the clock is global and monotonic; it advances between steps.
//!
//! The increments themselves are the real `account`, `complete`,
//! `in_flight_gauge` and `Counters::add_percpu`; only `BusyStamp::advance`
//! is transcribed here (its load and compare-and-swap are one call in
//! stats.rs), and `model_advance_is_busy_stamp` checks the transcription
//! against the real `BusyStamp` call by call. So a change to what one call
//! of `BusyStamp` returns is caught, but not one to how it behaves between
//! its load and its swap (a plain store in place of the swap, say): the
//! model's swap is this file's.
//!
//! What is not modelled: weak memory ordering (every step is sequentially
//! consistent; the stamp is Relaxed in stats.rs, and a load and a
//! compare-and-swap of one location are coherent on every architecture),
//! a per-CPU add torn into several adds (the helpers add a request's
//! increments one `this_cpu_add` per slot; here they are one step), a
//! request migrating CPUs inside `map`, resets (a baseline subtracts the
//! busy time already counted), and more than [`NCPU`] CPUs.
//!
//! Checked at every step: every in-flight reading, by `BusyStamp::start`
//! or by a reader, lies between what was in flight when the reading began
//! and when it ended (so it is never "negative", never wrapped to near
//! 2^64). Checked when every request has completed: the in-flight sum is
//! exactly 0, every count equals its completions, the request times are
//! exact, and the busy time, added only by the swaps that moved the stamp,
//! never exceeds the way the stamp moved (no interval counted twice).
//! Exhaustively for two requests on two CPUs and for a request and a
//! reader, and over random schedules of up to three threads and a reader.
//!
//! Two properties the documentation promises do not hold; the two ignored
//! tests at the end show them, and pass once they are fixed
//! (`cargo test -p dmp-stats --test busy_model -- --ignored`).

mod common;

use common::{config, io_kind};
use dmp_stats::{
    account, complete, in_flight_gauge, BusyStamp, Counters, IoKind, Slots, Started, IN_FLIGHT,
    IO_TICKS_NS, NR_SLOTS,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::rc::Rc;

/// `MODEL_TRACE=1` prints every step (to follow a failing schedule).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("MODEL_TRACE").is_some())
}

/// CPUs of the model.
const NCPU: usize = 2;

/// The stamp's granularity.
const G: u64 = BusyStamp::GRANULARITY_NS;

/// One request of a thread's script.
#[derive(Clone, Copy, Debug)]
struct Req {
    kind: IoKind,
    bytes: u64,
    preflush: bool,
    error: bool,
    map_cpu: usize,
    end_cpu: usize,
}

/// Where a thread is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pc {
    MapClock,
    MapLoad,
    MapCas,
    /// Reading the in-flight slot of this CPU.
    MapInFlight(usize),
    MapAdd,
    EndClock,
    EndLoad,
    EndCas,
    EndAdd,
    /// A reader reading this CPU's array.
    Read(usize),
    Done,
}

#[derive(Clone, Debug)]
struct Thread {
    /// The requests it maps and completes, in order (empty: a reader).
    script: Rc<[Req]>,
    /// Reads still to do (a reader).
    reads: usize,
    req: usize,
    pc: Pc,
    now: u64,
    seen: u64,
    elapsed: Option<u64>,
    sum: u64,
    snapshot: Counters,
    /// Requests mapped and completed when the current reading began.
    read_from: (u64, u64),
    busy: u64,
    start_ns: u64,
    /// The clock when `add_started` ran.
    added_at: u64,
}

impl Thread {
    fn requests(script: Vec<Req>) -> Thread {
        let pc = if script.is_empty() { Pc::Done } else { Pc::MapClock };
        Thread::new(script.into(), 0, pc)
    }

    fn reader(reads: usize) -> Thread {
        let pc = if reads == 0 { Pc::Done } else { Pc::Read(0) };
        Thread::new(Rc::new([]), reads, pc)
    }

    fn new(script: Rc<[Req]>, reads: usize, pc: Pc) -> Thread {
        Thread {
            script,
            reads,
            req: 0,
            pc,
            now: 0,
            seen: 0,
            elapsed: None,
            sum: 0,
            snapshot: Counters::zero(),
            read_from: (0, 0),
            busy: 0,
            start_ns: 0,
            added_at: 0,
        }
    }
}

/// The shared state and what the checks need to know of the past.
#[derive(Clone, Debug)]
struct World {
    cpus: [Slots; NCPU],
    /// The `BusyStamp`'s value.
    stamp: u64,
    /// Where the stamp started (`BusyStamp::new`: 0).
    stamp_start: u64,
    clock: u64,
    threads: Vec<Thread>,
    /// Requests mapped (`add_started` done) and completed so far.
    maps: u64,
    ends: u64,
    /// Clock of the first and the last clock read.
    first: Option<u64>,
    last: u64,
    /// Every busy nanosecond added, and the request times per kind
    /// (read, write, discard, preflush).
    busy_added: u64,
    took: [u64; 4],
    /// When each completed request showed in flight in the counters (the
    /// clock at `add_started` and at its completion's adds), shared by the
    /// worlds that continue this one.
    shown: Rc<Vec<(u64, u64)>>,
}

/// `BusyStamp::advance` after its load saw `seen`: moves the stamp when it
/// is still `seen` and at least `G` older than `now`; the interval if so.
fn advance_cas(stamp: &mut u64, seen: u64, now: u64) -> Option<u64> {
    let elapsed = now.checked_sub(seen)?;
    if elapsed < G {
        return None;
    }
    if *stamp == seen {
        *stamp = now;
        Some(elapsed)
    } else {
        None
    }
}

fn add(s: &mut Slots, slot: usize, v: u64) {
    s[slot] = s[slot].wrapping_add(v);
}

impl World {
    fn new(threads: Vec<Thread>, clock: u64) -> World {
        World {
            cpus: [[0; NR_SLOTS]; NCPU],
            stamp: 0,
            stamp_start: 0,
            clock,
            threads,
            maps: 0,
            ends: 0,
            first: None,
            last: clock,
            busy_added: 0,
            took: [0; 4],
            shown: Rc::new(Vec::new()),
        }
    }

    fn runnable(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.threads.len()).filter(|&t| self.threads[t].pc != Pc::Done)
    }

    fn read_clock(&mut self) -> u64 {
        self.first.get_or_insert(self.clock);
        self.last = self.clock;
        self.clock
    }

    /// Checks a gauge read from a sum that began when `from` requests were
    /// mapped and completed, and ends now.
    fn check_gauge(&self, gauge: u64, from: (u64, u64), who: &str) -> Result<(), String> {
        let (m0, e0) = (from.0 as i64, from.1 as i64);
        let (m1, e1) = (self.maps as i64, self.ends as i64);
        let lo = (m0 - e1).max(0) as u64;
        let hi = (m1 - e0).max(0) as u64;
        if gauge < lo || gauge > hi {
            return Err(format!(
                "{who}: in flight read {gauge}, outside [{lo}, {hi}] (mapped {m0}..{m1}, completed {e0}..{e1})"
            ));
        }
        Ok(())
    }

    /// Runs one step of thread `t`.
    fn step(&mut self, t: usize) -> Result<(), String> {
        if trace() {
            let th = &self.threads[t];
            eprintln!(
                "T{t} {:?} req {} clock {} stamp {} now {} seen {} elapsed {:?} busy {}",
                th.pc, th.req, self.clock, self.stamp, th.now, th.seen, th.elapsed, self.busy()
            );
        }
        let mut th = self.threads[t].clone();
        let req = th.script.get(th.req).copied();
        match th.pc {
            Pc::MapClock => {
                th.now = self.read_clock();
                th.pc = Pc::MapLoad;
            }
            Pc::MapLoad | Pc::EndLoad => {
                th.seen = self.stamp;
                th.pc = if th.pc == Pc::MapLoad { Pc::MapCas } else { Pc::EndCas };
            }
            Pc::MapCas => {
                th.elapsed = advance_cas(&mut self.stamp, th.seen, th.now);
                th.busy = 0;
                th.sum = 0;
                // `in_flight` is only asked when the stamp moved.
                th.pc = if th.elapsed.is_some() { Pc::MapInFlight(0) } else { Pc::MapAdd };
            }
            Pc::MapInFlight(cpu) => {
                if cpu == 0 {
                    th.read_from = (self.maps, self.ends);
                }
                th.sum = th.sum.wrapping_add(self.cpus[cpu][IN_FLIGHT]);
                if cpu + 1 < NCPU {
                    th.pc = Pc::MapInFlight(cpu + 1);
                } else {
                    let gauge = in_flight_gauge(th.sum);
                    self.check_gauge(gauge, th.read_from, "BusyStamp::start's in_flight")?;
                    th.busy = if gauge > 0 { th.elapsed.unwrap_or(0) } else { 0 };
                    th.pc = Pc::MapAdd;
                }
            }
            Pc::MapAdd => {
                let r = req.ok_or("no request")?;
                let s = &mut self.cpus[r.map_cpu];
                for a in account(r.kind, r.bytes, r.preflush).adds() {
                    add(s, a.slot(), a.value());
                }
                add(s, IN_FLIGHT, 1);
                add(s, IO_TICKS_NS, th.busy);
                self.busy_added += th.busy;
                self.maps += 1;
                th.start_ns = th.now;
                th.added_at = self.clock;
                th.pc = Pc::EndClock;
            }
            Pc::EndClock => {
                th.now = self.read_clock();
                th.pc = Pc::EndLoad;
            }
            Pc::EndCas => {
                th.elapsed = advance_cas(&mut self.stamp, th.seen, th.now);
                th.pc = Pc::EndAdd;
            }
            Pc::EndAdd => {
                let r = req.ok_or("no request")?;
                let busy = th.elapsed.unwrap_or(0);
                let started = Started::new(r.kind, r.preflush, th.start_ns);
                let s = &mut self.cpus[r.end_cpu];
                for a in complete(&started, th.now, r.error, busy).adds() {
                    add(s, a.slot(), a.value());
                }
                self.busy_added += busy;
                self.ends += 1;
                let took = th.now - th.start_ns;
                match r.kind {
                    IoKind::Read => self.took[0] += took,
                    IoKind::Write => self.took[1] += took,
                    IoKind::Discard => self.took[2] += took,
                    IoKind::Other => {}
                }
                if r.preflush {
                    self.took[3] += took;
                }
                Rc::make_mut(&mut self.shown).push((th.added_at, self.clock));
                th.req += 1;
                th.pc = if th.req < th.script.len() { Pc::MapClock } else { Pc::Done };
            }
            Pc::Read(cpu) => {
                if cpu == 0 {
                    th.read_from = (self.maps, self.ends);
                    th.snapshot = Counters::zero();
                }
                th.snapshot.add_percpu(&self.cpus[cpu]);
                if cpu + 1 < NCPU {
                    th.pc = Pc::Read(cpu + 1);
                } else {
                    self.check_gauge(th.snapshot.in_flight(), th.read_from, "a reader")?;
                    // The busy time already counted never exceeds the clock.
                    if th.snapshot.io_ticks_ns() > self.clock - self.stamp_start {
                        return Err(format!(
                            "a reader: busy {} ns at clock {}",
                            th.snapshot.io_ticks_ns(),
                            self.clock
                        ));
                    }
                    th.reads -= 1;
                    th.pc = if th.reads > 0 { Pc::Read(0) } else { Pc::Done };
                }
            }
            Pc::Done => return Err("a finished thread stepped".into()),
        }
        self.threads[t] = th;
        Ok(())
    }

    /// The checks once every thread is done.
    fn check_quiescent(&self) -> Result<(), String> {
        let raw = self
            .cpus
            .iter()
            .fold(0u64, |a, s| a.wrapping_add(s[IN_FLIGHT]));
        if raw != 0 {
            return Err(format!("quiescent: in-flight sum {raw}, not 0"));
        }
        let mut c = Counters::zero();
        for s in &self.cpus {
            c.add_percpu(s);
        }
        let reqs = || self.threads.iter().flat_map(|t| t.script.iter());
        let n = |k: IoKind| reqs().filter(|r| r.kind == k).count() as u64;
        let flushes = reqs().filter(|r| r.preflush).count() as u64;
        let counts = [
            ("reads", c.read_cnt(), c.read_done(), n(IoKind::Read)),
            ("writes", c.write_cnt(), c.write_done(), n(IoKind::Write)),
            ("discards", c.discard_cnt(), c.discard_done(), n(IoKind::Discard)),
            ("flushes", c.flush_cnt(), c.flush_done(), flushes),
        ];
        for (what, mapped, done, want) in counts {
            if (mapped, done) != (want, want) {
                return Err(format!("quiescent: {what} {mapped} mapped, {done} done, {want} made"));
            }
        }
        let times = [c.read_ns(), c.write_ns(), c.discard_ns(), c.flush_ns()];
        if times != self.took {
            return Err(format!("quiescent: request times {times:?}, made {:?}", self.took));
        }
        if c.in_flight() != 0 || c.io_ticks_ns() != self.busy_added {
            return Err(format!("quiescent: {c:?}"));
        }
        // Only the swap that moved the stamp adds its interval, and the
        // intervals follow each other from the stamp's start: their sum
        // never exceeds the stamp's way.
        if c.io_ticks_ns() > self.stamp - self.stamp_start {
            return Err(format!(
                "quiescent: busy {} ns > the stamp's way {} ns",
                c.io_ticks_ns(),
                self.stamp - self.stamp_start
            ));
        }
        Ok(())
    }

    /// Nanoseconds the counters showed a request in flight (the union of
    /// the requests' intervals).
    fn true_busy(&self) -> u64 {
        let mut v = self.shown.to_vec();
        v.sort();
        let mut total = 0;
        let mut cur: Option<(u64, u64)> = None;
        for (a, b) in v {
            cur = match cur {
                Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
                Some((ca, cb)) => {
                    total += cb - ca;
                    Some((a, b))
                }
                None => Some((a, b)),
            };
        }
        total + cur.map_or(0, |(a, b)| b - a)
    }

    fn busy(&self) -> u64 {
        self.cpus.iter().fold(0, |a, s| a + s[IO_TICKS_NS])
    }
}

/// Every interleaving of `world`'s threads, the clock advancing `dt` before
/// each step; checks every finished world with `leaf`. Returns the number
/// of schedules.
fn explore(
    world: &World,
    dt: u64,
    path: &mut Vec<usize>,
    leaf: &mut dyn FnMut(&World, &[usize]) -> Result<(), String>,
) -> Result<u64, String> {
    if world.runnable().next().is_none() {
        world
            .check_quiescent()
            .and_then(|()| leaf(world, path))
            .map_err(|e| format!("{e}; schedule {path:?}"))?;
        return Ok(1);
    }
    let mut n = 0;
    for t in 0..world.threads.len() {
        if world.threads[t].pc == Pc::Done {
            continue;
        }
        let mut w = world.clone();
        w.clock += dt;
        w.step(t).map_err(|e| format!("{e}; schedule {path:?} then {t}"))?;
        path.push(t);
        let r = explore(&w, dt, path, leaf);
        path.pop();
        n += r?;
    }
    Ok(n)
}

/// Runs `world` along `schedule`, (thread pick, clock advance) pairs: the
/// pick is among the threads still running; once the schedule is used up
/// the threads run in turn. Returns the threads in the order they ran.
fn run(world: &mut World, schedule: &[(Index, u64)]) -> Result<Vec<usize>, String> {
    let mut path = Vec::new();
    let mut turn = 0;
    loop {
        let running: Vec<usize> = world.runnable().collect();
        if running.is_empty() {
            world
                .check_quiescent()
                .map_err(|e| format!("{e}; schedule {path:?}"))?;
            return Ok(path);
        }
        let (t, dt) = match schedule.get(path.len()) {
            Some((pick, dt)) => (running[pick.index(running.len())], *dt),
            None => {
                turn += 1;
                (running[turn % running.len()], G / 7)
            }
        };
        world.clock += dt;
        world
            .step(t)
            .map_err(|e| format!("{e}; schedule {path:?} then {t}"))?;
        path.push(t);
    }
}

fn read(map_cpu: usize, end_cpu: usize) -> Req {
    Req {
        kind: IoKind::Read,
        bytes: 4096,
        preflush: false,
        error: false,
        map_cpu,
        end_cpu,
    }
}

fn flush(map_cpu: usize, end_cpu: usize) -> Req {
    Req {
        kind: IoKind::Write,
        bytes: 0,
        preflush: true,
        ..read(map_cpu, end_cpu)
    }
}

/// A device created at `t0` (its stamp at 0, as `BusyStamp::new` makes it)
/// with these threads.
fn device(t0: u64, threads: Vec<Thread>) -> World {
    World::new(threads, t0)
}

/// Two requests on two threads, every interleaving of their steps (the
/// clock advancing 2/3 of the granularity per step: two steps apart the
/// stamp may move, one step apart it may not), each mapped on one CPU and
/// completed on the other (other placements: `random_schedules`).
#[test]
fn two_requests_every_interleaving() {
    let w = device(
        100 * G,
        vec![
            Thread::requests(vec![read(0, 1)]),
            Thread::requests(vec![flush(1, 0)]),
        ],
    );
    let n = explore(&w, 2 * G / 3, &mut Vec::new(), &mut |_, _| Ok(())).unwrap_or_else(|e| panic!("{e}"));
    assert!(n > 10_000, "{n} schedules");
}

/// One request that moves between CPUs and a reader summing twice, every
/// interleaving: the reader sees it in flight, ended, or neither, never a
/// wrapped sum.
#[test]
fn a_request_and_a_reader_every_interleaving() {
    for (m, e) in [(0, 1), (1, 0)] {
        let w = device(
            100 * G,
            vec![Thread::requests(vec![read(m, e), flush(e, m)]), Thread::reader(2)],
        );
        let n = explore(&w, 2 * G / 3, &mut Vec::new(), &mut |_, _| Ok(()))
            .unwrap_or_else(|err| panic!("CPU {m} to {e}: {err}"));
        assert!(n > 1000, "{n} schedules");
    }
}

fn req() -> impl Strategy<Value = Req> {
    (io_kind(), any::<bool>(), any::<bool>(), 0..NCPU, 0..NCPU).prop_map(
        |(kind, preflush, error, map_cpu, end_cpu)| Req {
            kind,
            bytes: 4096,
            preflush,
            error,
            map_cpu,
            end_cpu,
        },
    )
}

/// Clock advances: none, under the granularity, around it, over it, an idle gap.
fn delta() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        1..G / 2,
        G - 1..G + 2,
        G..5 * G,
        Just(50 * G),
    ]
}

/// Up to three threads of up to three requests each and a reader.
fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(prop::collection::vec(req(), 1..4), 1..4),
        0usize..4,
        prop_oneof![Just(G / 2), Just(100 * G)],
    )
        .prop_map(|(scripts, reads, t0)| {
            let mut threads: Vec<Thread> = scripts.into_iter().map(Thread::requests).collect();
            threads.push(Thread::reader(reads));
            device(t0, threads)
        })
}

fn schedule() -> impl Strategy<Value = Vec<(Index, u64)>> {
    prop::collection::vec((any::<Index>(), delta()), 0..80)
}

/// One `BusyStamp` call as the model runs it: its load and swap adjacent.
fn model_call(stamp: &mut u64, now: u64) -> Option<u64> {
    let seen = *stamp;
    advance_cas(stamp, seen, now)
}

proptest! {
    #![proptest_config(config(512))]

    /// Random schedules of more threads, requests, CPUs and clock jumps
    /// than the exhaustive tests can afford.
    #[test]
    fn random_schedules(mut w in world(), s in schedule()) {
        run(&mut w, &s).map_err(TestCaseError::fail)?;
    }

    /// The model's transcription of `BusyStamp::advance` (load, then swap)
    /// gives what the real `BusyStamp` gives, call by call, when nothing
    /// runs between the two.
    #[test]
    fn model_advance_is_busy_stamp(
        calls in prop::collection::vec(
            (
                any::<bool>(),
                prop_oneof![0u64..3 * G, Just(0), Just(G - 1), Just(G), Just(G + 1)],
                any::<bool>(),
                0u64..3,
            ),
            1..40,
        ),
    ) {
        let real = BusyStamp::new();
        let mut model = 0u64;
        let mut now = 0u64;
        for (start, step, back, in_flight) in calls {
            // The clock mostly advances; sometimes a CPU's clock is behind.
            now = if back { now.saturating_sub(step / 4) } else { now + step };
            let got = if start {
                real.start(now, || in_flight)
            } else {
                real.end(now)
            };
            let want = match model_call(&mut model, now) {
                Some(e) if !start || in_flight > 0 => e,
                _ => 0,
            };
            prop_assert_eq!(got, want, "at {} ns, start {}", now, start);
        }
    }
}

/// Known bug (see the report of issue 26): the stamp starts at 0, i.e.
/// boot, not at the device's creation. When the first two requests of a
/// device arrive together, one moves the stamp from 0 and, seeing the other
/// in flight, counts the whole time since boot as busy: in this model 100
/// ms on a device that has existed for a few. `BusyStamp::new` taking the
/// creation time (registry.rs `attach`) would fix it.
#[test]
#[ignore = "known bug: the busy time can count the time before the device existed"]
fn busy_time_within_the_devices_lifetime() {
    let w = device(
        100 * G,
        vec![
            Thread::requests(vec![read(0, 0)]),
            Thread::requests(vec![read(1, 1)]),
        ],
    );
    explore(&w, G / 10, &mut Vec::new(), &mut |w, _| {
        let lifetime = w.last - w.first.unwrap_or(0);
        if w.busy() > lifetime {
            return Err(format!("busy {} ns in a lifetime of {} ns", w.busy(), lifetime));
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Known bug (see the report of issue 26), shared with the block layer's
/// `update_io_ticks`: a request that moves the stamp after an idle gap asks
/// for the requests in flight after its swap; one that arrived meanwhile
/// (on another CPU) makes it count the whole gap as busy. Here: a request
/// at 1 ms, then 50 ms idle, then two requests within a microsecond count
/// 50 ms busy, where the documented bound is one granularity per change
/// between idle and busy.
#[test]
#[ignore = "known bug: an idle gap before two concurrent requests counts as busy"]
fn idle_gap_before_concurrent_requests_is_not_busy() {
    let mut w = device(
        G,
        vec![
            Thread::requests(vec![read(0, 0)]),
            Thread::requests(vec![read(0, 0)]),
            Thread::requests(vec![read(1, 1)]),
        ],
    );
    w.stamp = G; // the device was created just before (see the other bug)
    let us = 1_000;
    // T0 maps and completes at once; 50 ms pass; T1 reads the clock and
    // moves the stamp; T2 maps meanwhile; T1 sees it in flight.
    let steps: &[(usize, u64)] = &[
        (0, 0), (0, us), (0, us), (0, us), (0, us), (0, us), (0, us), (0, us),
        (1, 50 * G), (1, us), (1, us), // clock, load, swap: the stamp moves
        (2, us), (2, us), (2, us), (2, us), // clock, load, swap (too soon), add
        (1, us), (1, us), (1, us), // in flight: CPU 0, CPU 1 (sees T2), add
    ];
    for &(t, dt) in steps {
        w.clock += dt;
        w.step(t).expect("step");
    }
    run(&mut w, &[]).expect("the rest");
    let (busy, shown) = (w.busy(), w.true_busy());
    assert!(
        busy <= shown + 4 * G,
        "busy {busy} ns, in flight {shown} ns: the idle gap counted"
    );
}
