#!/usr/bin/env python3
"""Replays a ferrous task trace (`ferrous mem --trace FILE`) with N virtual
workers and predicts the run's wall time and busy cores for each N.

    scripts/scaling-model.py TRACE.json [--threads 1,2,4,...] [--pairs P]
                             [--cores C] [--json OUT.json]

The trace gives what each piece of work costs (the thread CPU time of its
span): reading (decompressing each gzip file, parsing), every seeding /
chaining / extension task and every rescue / pairing / SAM task of every
batch, the insert-size model of each batch, writing. The model rebuilds the
run for `-t N` under the pipeline's rules (src/lib/pipeline.rs) and
simulates it:

* batches of `chunk_size * N` bases (bwa's rule; `-K` fixes it), cut from
  the trace's reads in order, so a batch at `-t N` holds the tasks of the
  reads it covers; `--pairs P` cycles the trace's reads to P pairs (a long
  input) instead of the run's own number;
* one reader thread cuts a batch while one decoder thread per gzip file
  inflates it, a few MiB ahead at most, and (two mate files) one parser
  thread per file parses it, a few chunks of records ahead at most; the
  reader holds the next batch until the batch before it is done (a
  rendezvous: one batch ahead);
* a paired batch: all N workers take its alignment tasks in order; barrier;
  the insert-size model on one thread while the others wait; the pair tasks
  in order, their text handed on in order in groups of 32 tasks to the
  writer through a queue of 30 MiB of text per worker (a worker blocks
  while a group does not fit; src/lib/output/sam.rs);
  barrier. A single-end batch has one phase of tasks;
* the writer thread writes each group;
* every thread that has work shares the C cores (default N) equally.

Start-up (opening the index, until reading starts) and the end (after the
last write) are taken from the trace as measured. Busy cores are all CPU
time over the predicted wall time; efficiency is busy cores / N. The idle
worker time is put down to what the workers waited for, which names the
limit at each N. For long inputs only the first few batches are simulated
and the rest extrapolated from the steady state (said in the output).

`--check-trace` only summarises the trace. Python 3.8+, standard library.
"""

import argparse
import heapq
import json
import sys
from collections import defaultdict

TEXT_BYTES_PER_THREAD = 30 << 20  # text waiting for the writer, per -t (output/sam.rs)
GROUP_TASKS = 32  # tasks' texts per group (PAIR_GROUP, TextGroups::PIECES)
AHEAD_MIB = 5  # decoded MiB a decoder thread runs ahead (4 queued + 1)
PARSE_AHEAD_READS = 5 * 2048 * 2  # a parser thread's chunks ahead (4 queued + 1)
# of 2048 records of its file, counted as reads of both mates (reads/pairs.rs)
SIMULATED_BATCHES = 8  # batches simulated before extrapolating


class Profile:
    """What a traced run's pieces of work cost (CPU seconds)."""

    def __init__(self, path):
        with open(path) as f:
            d = json.load(f)
        self.meta = d.get("otherData", {})
        if self.meta.get("layout") not in ("paired", "single"):
            sys.exit(f"{path}: layout {self.meta.get('layout')!r} is not modelled "
                     "(a paired run from two files, or a single-end run)")
        self.paired = self.meta["layout"] == "paired"
        ev = [e for e in d["traceEvents"] if e.get("ph") == "X"]
        if not ev:
            sys.exit(f"{path}: no spans")
        by = defaultdict(list)
        for e in ev:
            by[e["name"]].append(e)
        cpu = lambda e: e["args"]["cpu_us"] * 1e-6
        self.spans = by
        # Batches in input order, each with its tasks in task order.
        self.batches = []
        for b in sorted(by["batch"], key=lambda e: e["args"]["first_read"]):
            fr = b["args"]["first_read"]
            task_kind = "align" if self.paired else "single"
            tasks = sorted((e for e in by[task_kind] if e["args"]["first_read"] == fr),
                           key=lambda e: e["args"]["task"])
            pairs = sorted((e for e in by["pair"] if e["args"]["first_read"] == fr),
                           key=lambda e: e["args"]["task"])
            if self.paired and [t["args"]["reads"] for t in tasks] != [t["args"]["reads"] for t in pairs]:
                sys.exit(f"{path}: batch {fr}: align and pair tasks do not cover the same reads")
            isz = sum(cpu(e) for e in by["insert_size"] if e["args"]["first_read"] == fr)
            # The driving thread's CPU time in the batch outside the spans
            # inside it: handing each task's result on in order and the
            # spans' own recording (a few microseconds a task), which every
            # worker does for the tasks it runs. Spread over the tasks.
            inner = [e for e in ev if e["tid"] == b["tid"] and e is not b
                     and e["ts"] >= b["ts"] and e["ts"] + e["dur"] <= b["ts"] + b["dur"]]
            overhead = max(0.0, cpu(b) - sum(cpu(e) for e in inner))
            ran_here = sum(1 for e in inner if e["name"] in ("align", "pair", "single"))
            per_task = overhead / ran_here if ran_here else 0.0
            self.batches.append({
                "reads": b["args"]["reads"],
                "bases": b["args"]["bases"],
                "tasks": [(t["args"]["reads"], cpu(t) + per_task,
                           cpu(p) + per_task if self.paired else 0.0)
                          for t, p in zip(tasks, pairs if self.paired else tasks)],
                "insert_size": isz,
                "overhead": overhead,
            })
        self.reads = sum(b["reads"] for b in self.batches)
        self.bases = sum(b["bases"] for b in self.batches)
        if self.reads == 0:
            sys.exit(f"{path}: no reads aligned")
        # Reading: per read, for the parser and for each decoder thread.
        self.parse_per_read = sum(cpu(e) for e in by["parse"]) / self.reads
        dec = defaultdict(lambda: [0.0, 0])
        for e in by["decompress"]:
            dec[e["tid"]][0] += cpu(e)
            dec[e["tid"]][1] += e["args"].get("bytes", 0)
        # Each input thread: (CPU per read, reads it may run ahead).
        self.decoders = [(c / self.reads, AHEAD_MIB * (1 << 20) / (n / self.reads)
                          if n else 0.0) for c, n in dec.values()]
        par = defaultdict(float)
        for e in by["parse_file"]:
            par[e["tid"]] += cpu(e)
        self.parsers = [(c / self.reads, PARSE_AHEAD_READS) for c in par.values()]
        self.inputs = self.decoders + self.parsers
        self.write_per_read = sum(cpu(e) for e in by["write"]) / self.reads
        self.text_per_read = (sum(e["args"].get("bytes", 0) for e in by["write"])
                              / self.reads) or 1.0
        self.insert_per_pair = (sum(b["insert_size"] for b in self.batches)
                                / max(1, self.reads // 2))
        self.bookkeeping = sum(b["overhead"] for b in self.batches)
        # Start-up and end as measured (wall seconds).
        parse_start = min(e["ts"] for e in by["parse"]) * 1e-6
        self.startup = parse_start
        last = max(e["ts"] + e["dur"] for e in ev if e["name"] in ("batch", "write")) * 1e-6
        wall = self.meta.get("wall_us", 0) * 1e-6
        self.end = max(0.0, wall - last)
        self.wall = wall
        self.index_s = sum(e["dur"] for e in by["index"]) * 1e-6

    def task_cpu(self):
        return sum(a + p for b in self.batches for _, a, p in b["tasks"])

    def summary(self):
        total_tasks = self.task_cpu()
        isz = sum(b["insert_size"] for b in self.batches)
        reading = self.parse_per_read * self.reads
        dec = [c * self.reads for c, _ in self.decoders]
        return {
            "threads": self.meta.get("threads"),
            "reads": self.reads,
            "batches": len(self.batches),
            "wall_s": round(self.wall, 3),
            "startup_s": round(self.startup, 3),
            "index_s": round(self.index_s, 3),
            "end_s": round(self.end, 3),
            "task_cpu_s": round(total_tasks, 3),
            "align_cpu_s": round(sum(a for b in self.batches for _, a, _ in b["tasks"]), 3),
            "pair_cpu_s": round(sum(p for b in self.batches for _, _, p in b["tasks"]), 3),
            "insert_size_cpu_s": round(isz, 4),
            "bookkeeping_cpu_s": round(self.bookkeeping, 4),
            "parse_cpu_s": round(reading, 3),
            "decompress_cpu_s": [round(x, 3) for x in dec],
            "parse_file_cpu_s": [round(c * self.reads, 3) for c, _ in self.parsers],
            "write_cpu_s": round(self.write_per_read * self.reads, 3),
            "worker_reads_per_s": round(self.reads / total_tasks) if total_tasks else None,
        }

    def stream(self, pairs):
        """The trace's tasks in input order, cycled to `pairs` pairs (reads
        for single-end) or the run's own length: (reads, bases, align, pair)."""
        want = (2 * pairs if self.paired else pairs) if pairs else self.reads
        done = 0
        while done < want:
            for b in self.batches:
                per_base = b["bases"] / b["reads"]
                for reads, a, p in b["tasks"]:
                    if done >= want:
                        return
                    take = min(reads, want - done)
                    f = take / reads
                    yield take, take * per_base, a * f, p * f
                    done += take


def cut_batches(profile, batch_bases, pairs):
    """Cuts the stream into batches of at least `batch_bases` bases at an
    even number of reads (bwa's bseq_read), splitting a task at the cut."""
    batch, bases = [], 0.0
    for reads, b, a, p in profile.stream(pairs):
        while reads > 0:
            need = batch_bases - bases
            per = b / reads
            if b <= need or reads <= 2:
                batch.append((reads, a, p))
                bases += b
                reads = 0
            else:
                k = max(2, min(reads, int(-(-need // per))))
                k += k % 2
                k = min(k, reads)
                f = k / reads
                batch.append((k, a * f, p * f))
                bases += b * f
                reads, b, a, p = reads - k, b * (1 - f), a * (1 - f), p * (1 - f)
            if bases >= batch_bases:
                yield batch
                batch, bases = [], 0.0
    if batch:
        yield batch


class Sim:
    """Processor sharing over `cores`: every thread with work runs at
    min(1, cores / threads with work). A job finishes when the common
    virtual clock (CPU seconds each running job received) reaches its mark."""

    def __init__(self, cores):
        self.cores = cores
        self.t = 0.0
        self.v = 0.0
        self.heap = []
        self.running = 0
        self.seq = 0
        self.cpu = 0.0

    def start(self, cpu, done):
        """Runs a job of `cpu` seconds; `done()` is called when it ends."""
        self.seq += 1
        heapq.heappush(self.heap, (self.v + max(cpu, 0.0), self.seq, done))
        self.running += 1

    def rate(self):
        return min(1.0, self.cores / self.running) if self.running else 1.0

    def step(self, on_advance):
        """Advances to the next job's end; `on_advance(dt, rate)` accounts
        the interval first. False when nothing runs."""
        if not self.heap:
            return False
        v_end, _, done = heapq.heappop(self.heap)
        rate = self.rate()
        dt = (v_end - self.v) / rate
        on_advance(dt, rate)
        self.cpu += self.running * rate * dt
        self.t += dt
        self.v = v_end
        self.running -= 1
        done()
        return True


class Run:
    """One simulated run of `batches` with `n` workers on `cores` cores."""

    def __init__(self, profile, batches, n, cores):
        self.p = profile
        self.batches = batches
        self.n = n
        self.sim = Sim(cores)
        self.idle = defaultdict(float)  # idle worker-seconds by cause
        self.shared = 0.0  # worker-seconds lost to sharing cores with I/O threads
        self.batch_done_at = []
        self.marks = []  # (time, CPU, idle by cause) at the end of each batch
        # Reader.
        self.ready = None  # index of the batch parsed and waiting
        self.reading = None
        self.read_parts = 0
        self.next_read = 0
        self.ahead_done = [0.0] * len(profile.inputs)
        # Orchestrator and workers.
        self.state = "startup"
        self.busy_workers = 0
        self.queue = []
        self.qpos = 0
        self.outstanding = 0
        self.current = None
        # Ordered hand-over of texts and the writer.
        self.done_tasks = set()
        self.next_put = 0
        self.group_reads = 0
        self.group_tasks = 0
        self.wqueue = []
        self.wqueue_reads = 0
        self.budget_reads = TEXT_BYTES_PER_THREAD * n / profile.text_per_read
        self.writer_busy = False
        self.pending = None  # a group waiting for room in the writer's queue
        self.waiters = []  # workers waiting for the order lock meanwhile
        self.phase_then = None
        self.ordered = False

    # -- reader --------------------------------------------------------
    def start_read(self):
        j = self.next_read
        if j >= len(self.batches):
            return
        self.next_read += 1
        self.reading = j
        reads = sum(r for r, _, _ in self.batches[j])
        self.read_parts = 1 + len(self.p.inputs)
        self.sim.start(self.p.parse_per_read * reads, self.read_part_done)
        for k, (per_read, _) in enumerate(self.p.inputs):
            rest = max(0.0, per_read * reads - self.ahead_done[k])
            self.ahead_done[k] = 0.0
            self.sim.start(rest, lambda k=k, j=j: self.decoded(k, j))

    def decoded(self, k, j):
        # The decoder runs ahead into the next batch, a few MiB at most.
        per_read, ahead_reads = self.p.inputs[k]
        if j + 1 < len(self.batches) and ahead_reads > 0:
            nxt = sum(r for r, _, _ in self.batches[j + 1])
            ahead = min(nxt, ahead_reads) * per_read
            self.ahead_done[k] = ahead
            self.sim.start(ahead, self.read_part_done)
            self.read_parts += 1
        self.read_part_done()

    def read_part_done(self):
        self.read_parts -= 1
        if self.read_parts == 0 and self.reading is not None:
            self.ready = self.reading
            self.reading = None
            self.take_batch()

    # -- orchestrator and workers --------------------------------------
    def take_batch(self):
        if self.state not in ("startup", "input") or self.ready is None:
            return
        j = self.ready
        self.ready = None
        self.current = j
        self.start_read()  # the rendezvous lets the reader go on
        self.begin_phase_a()

    def begin_phase_a(self):
        tasks = self.batches[self.current]
        if self.p.paired:
            self.run_phase([a for _, a, _ in tasks], self.end_phase_a, ordered=False)
        else:
            self.run_phase([a for _, a, _ in tasks], self.end_batch, ordered=True)

    def end_phase_a(self):
        tasks = self.batches[self.current]
        pairs = sum(r for r, _, _ in tasks) // 2
        self.state = "insert_size"
        self.busy_workers = 1
        self.sim.start(self.p.insert_per_pair * pairs, self.begin_phase_c)

    def begin_phase_c(self):
        self.busy_workers = 0
        self.run_phase([p for _, _, p in self.batches[self.current]], self.end_batch, ordered=True)

    def run_phase(self, costs, then, ordered):
        self.state = "tasks"
        self.queue = costs
        self.qpos = 0
        self.outstanding = len(costs)
        self.phase_then = then
        self.ordered = ordered
        self.done_tasks = set()
        self.next_put = 0
        if not costs:
            then()
            return
        for _ in range(min(self.n, len(costs))):
            self.pull()

    def pull(self):
        if self.qpos >= len(self.queue):
            return
        k = self.qpos
        self.qpos += 1
        self.busy_workers += 1
        self.sim.start(self.queue[k], lambda k=k: self.task_done(k))

    def task_done(self, k):
        self.busy_workers -= 1
        self.outstanding -= 1
        if not self.ordered:
            self.after_task()
            return
        self.done_tasks.add(k)
        if self.pending is not None:
            # The order lock is held by a worker waiting for the writer.
            self.waiters.append(self.drain_and_continue)
            return
        self.drain_and_continue()

    def drain_and_continue(self):
        """Hands on the finished texts in order (groups of GROUP_TASKS
        tasks) unless a group finds the writer's queue full: then this
        worker waits, holding the order lock."""
        if self.pending is not None:
            self.waiters.append(self.drain_and_continue)
            return
        tasks = self.batches[self.current]
        while self.next_put in self.done_tasks:
            self.done_tasks.discard(self.next_put)
            self.group_reads += tasks[self.next_put][0]
            self.group_tasks += 1
            self.next_put += 1
            if self.group_tasks == GROUP_TASKS and not self.put_group(self.drain_and_continue):
                return
        self.after_task()

    def put_group(self, then):
        """Queues the group gathered so far for the writer; when the queue
        is full, keeps it pending, calls `then` once it went in and returns
        False."""
        reads, self.group_reads, self.group_tasks = self.group_reads, 0, 0
        if self.fits(reads):
            self.wqueue.append(reads)
            self.wqueue_reads += reads
            self.kick_writer()
            return True
        self.pending = reads
        self.waiters.insert(0, then)
        return False

    def fits(self, reads):
        return not self.wqueue or self.wqueue_reads + reads <= self.budget_reads

    def after_task(self):
        if self.qpos < len(self.queue):
            self.pull()
        elif self.outstanding == 0 and self.pending is None and not self.waiters \
                and self.phase_then is not None:
            if self.ordered and self.group_tasks and not self.put_group(self.after_task):
                return
            then, self.phase_then = self.phase_then, None
            then()

    def end_batch(self):
        self.batch_done_at.append(self.sim.t)
        self.marks.append((self.sim.t, self.sim.cpu, dict(self.idle)))
        self.current = None
        if self.next_read >= len(self.batches) and self.ready is None and self.reading is None:
            self.state = "end"
            return
        self.state = "input"
        self.take_batch()

    # -- writer --------------------------------------------------------
    def kick_writer(self):
        if self.writer_busy or not self.wqueue:
            return
        reads = self.wqueue.pop(0)
        self.wqueue_reads -= reads
        self.writer_busy = True
        self.sim.start(self.p.write_per_read * reads, self.written)
        # Room in the queue: the pending group goes in, waiting workers go on.
        if self.pending is not None and self.fits(self.pending):
            self.wqueue.append(self.pending)
            self.wqueue_reads += self.pending
            self.pending = None
            # One at a time: a worker may fill the queue again.
            while self.pending is None and self.waiters:
                self.waiters.pop(0)()

    def written(self):
        self.writer_busy = False
        self.kick_writer()

    # -- run -----------------------------------------------------------
    def account(self, dt, rate):
        idle = self.n - self.busy_workers
        if idle > 0:
            cause = {"tasks": "phase tail", "startup": "reading the first batch",
                     "input": "waiting for input"}.get(self.state, self.state)
            if self.pending is not None:
                cause = "output"
            self.idle[cause] += idle * dt
        self.shared += self.busy_workers * (1 - rate) * dt

    def run(self):
        self.start_read()
        while self.sim.step(self.account):
            pass
        if self.state != "end" or len(self.batch_done_at) != len(self.batches):
            raise RuntimeError(f"simulation stalled in state {self.state}")
        return self.sim.t


def predict(profile, n, pairs=None, cores=None):
    """Predicted wall time, busy cores and idle causes at `-t n`."""
    cores = cores or n
    fixed = profile.meta.get("fixed_batch_size", 0)
    batch_bases = fixed if fixed > 0 else profile.meta.get("chunk_size", 10_000_000) * n
    batches = list(cut_batches(profile, batch_bases, pairs))
    total = len(batches)
    sim_batches = batches
    extrapolated = 0
    if total > SIMULATED_BATCHES + 2:
        sim_batches = batches[:SIMULATED_BATCHES]
        extrapolated = total - SIMULATED_BATCHES
    r = Run(profile, sim_batches, n, cores)
    t = r.run()
    cpu = r.sim.cpu
    idle = dict(r.idle)
    shared = r.shared
    if extrapolated:
        # Steady state: time, CPU and idle time per batch over the middle
        # batches (the first has no reading overlap, the last no successor).
        lo, hi = 2, SIMULATED_BATCHES - 1
        (t0, c0, i0), (t1, c1, i1) = r.marks[lo - 1], r.marks[hi - 1]
        k = extrapolated / (hi - lo)
        t += (t1 - t0) * k
        cpu += (c1 - c0) * k
        for cause in set(i0) | set(i1):
            idle[cause] = idle.get(cause, 0.0) + (i1.get(cause, 0.0) - i0.get(cause, 0.0)) * k
    wall = profile.startup + t + profile.end
    busy = (cpu + profile.startup + profile.end) / wall
    worker_s = n * wall
    lost = {k: v / worker_s for k, v in idle.items() if v > 0}
    lost["index and start-up, end"] = n * (profile.startup + profile.end) / worker_s
    if shared > 0:
        lost["cores shared with I/O threads"] = shared / worker_s
    return {
        "threads": n,
        "cores": cores,
        "batches": total,
        "simulated_batches": len(sim_batches),
        "wall_s": wall,
        "busy_cores": busy,
        "efficiency": busy / n,
        "lost": lost,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--threads", default="1,2,4,8,16,32,64,96,128")
    ap.add_argument("--pairs", type=int, default=None,
                    help="cycle the trace's reads to this many pairs (reads if single-end)")
    ap.add_argument("--cores", type=int, default=None, help="cores of the machine [N]")
    ap.add_argument("--json", help="write the predictions here")
    ap.add_argument("--check-trace", action="store_true", help="only summarise the trace")
    a = ap.parse_args()
    prof = Profile(a.trace)
    summary = prof.summary()
    print("trace:", json.dumps(summary))
    if a.check_trace:
        return
    out = []
    print(f"{'-t':>4} {'batches':>7} {'wall_s':>9} {'busy':>7} {'eff':>6}  limits (share of N x wall)")
    for n in [int(x) for x in a.threads.split(",")]:
        r = predict(prof, n, a.pairs, a.cores)
        out.append(r)
        lost = ", ".join(f"{k} {v:.3f}" for k, v in sorted(r["lost"].items(), key=lambda kv: -kv[1])
                         if v >= 0.0005)
        sim = "" if r["simulated_batches"] == r["batches"] else f" ({r['simulated_batches']} simulated)"
        print(f"{n:>4} {r['batches']:>7} {r['wall_s']:>9.2f} {r['busy_cores']:>7.2f} "
              f"{r['efficiency']:>6.3f}  {lost}{sim}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"trace": summary, "pairs": a.pairs, "predictions": out}, f, indent=1)


if __name__ == "__main__":
    main()
