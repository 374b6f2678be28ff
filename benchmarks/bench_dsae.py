"""DSAE training speed: seconds per epoch and the total for the paper's 200 epochs on 8000 x 500, batch 512.

The authors reported ~20 minutes for this run. Data: random float32 of the right shape (8000 x 500, 4 classes);
the speed of dense layers does not depend on the values. Compared in one process, on the same model:
  naive      a Python loop of `model.train_on_batch` over numpy batches (one graph call per batch, no tf.data)
  fit        `fit_dsae` (one seeded shuffle + `fit` call per epoch, steps_per_execution=32) -- the library default
  fit+xla    `fit_dsae` with `jit_compile=True` (XLA)
  fit+det    the default with tf.config.experimental.enable_op_determinism() (process-wide, so measured last)
Each variant is timed over a few epochs after one warm-up epoch (tracing / XLA compilation reported separately);
the best variant is then run for the full 200 epochs and that total is measured, not projected.
Peak memory is the process's ru_maxrss. Run alone this script only prints its table (it has more variants than the
`dsae` section of benchmarks/run.py, which uses its helpers and is the one that records results.md / results.json).

Usage: nice python benchmarks/bench_dsae.py [--epochs 200] [--timed 5] [--no-full]
"""
import argparse, os, platform, resource, sys, time
from datetime import datetime, timezone
from pathlib import Path
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np
import keras
import tensorflow as tf
from genre_nbs.autoencoders import build_dsae, fit_dsae, compile_dsae, standardize

N, N_IN, N_CLASSES, BATCH = 8000, 500, 4, 512

def cpu_s():
    "CPU seconds (user + system, all threads) used by this process so far: robust to other jobs on a shared CPU."
    r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime

def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, N_IN)).astype(np.float32), rng.integers(0, N_CLASSES, N)

def naive_epochs(X, y, epochs):
    "train_on_batch loop; returns (first-epoch seconds, seconds per later epoch)."
    m = build_dsae(N_IN, N_CLASSES, steps_per_execution=1)
    m.get_layer('standardize').adapt(X)
    Xs = standardize(m, X)
    rng = np.random.default_rng(0)
    times, cpus = [], []
    for _ in range(epochs + 1):
        t, c = time.perf_counter(), cpu_s()
        idx = rng.permutation(N)
        for s in range(0, N, BATCH):
            b = idx[s:s+BATCH]
            m.train_on_batch(X[b], {'recon': Xs[b], 'probs': y[b]})
        times.append(time.perf_counter() - t); cpus.append(cpu_s() - c)
    return times[0], float(np.median(times[1:])), float(np.median(cpus[1:]))

class EpochTimer(keras.callbacks.Callback):
    """Wall and CPU seconds per epoch, call to call: fit_dsae makes one `fit` call per epoch, so an epoch runs from one
    `on_train_begin` to the next and includes the shuffle and Keras' per-call set-up, not only the batches."""
    def __init__(self): super().__init__(); self.marks = []
    def on_train_begin(self, logs=None): self.marks.append((time.perf_counter(), cpu_s()))
    def stop(self):
        self.marks.append((time.perf_counter(), cpu_s()))
        self.t = [b[0] - a[0] for a, b in zip(self.marks, self.marks[1:])]
        self.c = [b[1] - a[1] for a, b in zip(self.marks, self.marks[1:])]

def fit_epochs(X, y, epochs, fit_kw=None, **kw):
    "fit_dsae; returns (first-epoch seconds, median seconds per later epoch, model)."
    m = build_dsae(N_IN, N_CLASSES, **kw)
    cb = EpochTimer()
    fit_dsae(m, X, y, epochs=epochs + 1, batch_size=BATCH, seed=0, callbacks=[cb], **(fit_kw or {}))
    cb.stop()
    return cb.t[0], float(np.median(cb.t[1:])), float(np.median(cb.c[1:]))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=200, help='epochs of the full measured run')
    ap.add_argument('--timed', type=int, default=5, help='epochs timed per variant (after 1 warm-up epoch)')
    ap.add_argument('--no-full', action='store_true', help='skip the full measured run (projection only)')
    a = ap.parse_args()
    X, y = data()
    rows = {}
    show = lambda k: print(f'{k}: first epoch {rows[k][0]:.2f} s, then {rows[k][1]:.3f} s/epoch ({rows[k][2]:.3f} CPU-s/epoch)', flush=True)
    first, per, cpu = naive_epochs(X, y, a.timed); rows['naive train_on_batch loop'] = (first, per, cpu); show('naive train_on_batch loop')
    first, per, cpu = fit_epochs(X, y, a.timed); rows['fit_dsae (steps_per_execution=32)'] = (first, per, cpu)
    show('fit_dsae (steps_per_execution=32)')
    first, per, cpu = fit_epochs(X, y, a.timed, jit_compile=True); rows['fit_dsae + XLA (jit_compile=True)'] = (first, per, cpu)
    show('fit_dsae + XLA (jit_compile=True)')
    best = min(['fit_dsae (steps_per_execution=32)', 'fit_dsae + XLA (jit_compile=True)'], key=lambda k: rows[k][1])
    full = None
    if not a.no_full:
        kw = {'jit_compile': True} if 'XLA' in best else {}
        m = build_dsae(N_IN, N_CLASSES, **kw)
        t, c = time.perf_counter(), cpu_s()
        h = fit_dsae(m, X, y, epochs=a.epochs, batch_size=BATCH, seed=0)
        full = (time.perf_counter() - t, best, h['loss'][0], h['loss'][-1], cpu_s() - c)
        print(f'full run: {a.epochs} epochs in {full[0]:.1f} s ({best})', flush=True)
    first, per, cpu = fit_epochs(X, y, a.timed, fit_kw={'deterministic': True}); rows['fit_dsae + enable_op_determinism'] = (first, per, cpu)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    naive = rows['naive train_on_batch loop'][1]
    load = os.getloadavg()
    lines = [f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, `nice python benchmarks/bench_dsae.py "
             f"--epochs {a.epochs} --timed {a.timed}`",
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs shared (load average at the end "
             f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}), tensorflow {tf.__version__}, keras {keras.__version__}. "
             f"Data: random 8000 x 500 float32, 4 classes (timing only), batch {BATCH}, no validation set.", "",
             "CPU-s = user + system seconds of this process over all its threads; on 2 cores that nobody else uses, "
             "wall time is about CPU-s / 2 (the wall columns below are inflated by the other jobs).", "",
             "| variant | first epoch (s, incl. tracing) | s / epoch (wall) | CPU-s / epoch | projected 200 epochs (wall s) | speed-up vs naive (wall) | (CPU) |",
             "|---|---|---|---|---|---|---|"]
    naive_cpu = rows['naive train_on_batch loop'][2]
    for k, (f, p, c) in rows.items():
        lines.append(f"| {k} | {f:.2f} | {p:.3f} | {c:.3f} | {f + 199*p:.0f} | {naive/p:.2f}x | {naive_cpu/c:.2f}x |")
    lines.append("")
    if full:
        lines.append(f"Measured: {a.epochs} epochs with `{full[1]}` took **{full[0]:.1f} s** "
                     f"({full[4]:.0f} CPU-s; loss {full[2]:.3f} -> {full[3]:.3f}); the authors reported ~20 min (1200 s); target < 90 s. "
                     f"Ratio naive-projected / measured: {(rows['naive train_on_batch loop'][0] + (a.epochs-1)*naive)/full[0]:.2f}x.")
    lines.append(f"Peak memory (ru_maxrss): {rss_mb:.0f} MB.")
    text = '\n'.join(lines) + '\n'
    print(text)

if __name__ == '__main__': main()
