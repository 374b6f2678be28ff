"""CNN speed on CPU: seconds per training epoch, inference time per 30 s clip (after loading, feature extraction
included) and clips/s for a folder, with a naive baseline (one model.predict call per window) in the same run.
Run alone it only prints its table; `benchmarks/run.py --sections cnn` (which calls `run`) records it in results.md.
Usage: python benchmarks/bench_cnn.py [--quick]"""
import os, sys, time, tempfile, platform, datetime
from pathlib import Path
import numpy as np
from genre_nbs.cnn import (huang_cnn, train_cnn, make_classifier, save_classifier, load_classifier, predict_tracks,
                           classify_audio, track_features, fixed_crops, apply_norm, LOGMEL_INPUT)
from genre_nbs.data import load_audio, scan_gtzan, shared_data_dir
from genre_nbs.synthetic import synthesize_track

QUICK = '--quick' in sys.argv
REPO = Path(__file__).resolve().parents[1]

CPU = {}  # label -> CPU seconds per call (all threads), load-independent

def timeit(f, n, label=None):
    "Median wall seconds per call; the mean CPU seconds per call goes to CPU[label]."
    ts, c0 = [], time.process_time()
    for _ in range(n): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    if label: CPU[label] = (time.process_time() - c0) / n
    return float(np.median(ts))

def forward_flops(model)->float:
    "Multiply-adds x 2 of one example's forward pass through the conv and dense layers (the rest is memory-bound)."
    import keras
    f = 0.
    for l in model.layers:
        if isinstance(l, (keras.layers.Conv1D, keras.layers.Conv2D)):
            f += 2 * np.prod(l.output.shape[1:]) * np.prod(l.kernel_size) * l.input.shape[-1]
        elif isinstance(l, keras.layers.Dense): f += 2 * l.input.shape[-1] * l.units
    return float(f)

def matmul_peak(n:int=2048, reps:int=10)->float:
    "GFLOP/s of TensorFlow's float32 matmul on this machine, now (the ceiling a network's epoch can approach)."
    import tensorflow as tf
    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    t = time.perf_counter()
    for _ in range(reps): tf.matmul(a, b).numpy()
    return reps * 2 * n ** 3 / (time.perf_counter() - t) / 1e9

def train_throughput(quick:bool)->list:
    "Huang's CNN, one training epoch of batch-200 steps: Keras's BatchNormalization (naive) vs FusedBatchNorm (ours), GFLOP/s vs the matmul peak."
    import keras, genre_nbs.cnn as cnn
    n = 400 if quick else 2000
    X = np.random.default_rng(0).normal(size=(n, 64, 173, 1)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[np.arange(n) % 10]
    peak, out, per = matmul_peak(), [], {}
    for label, bn in (('Keras BatchNormalization (naive)', keras.layers.BatchNormalization), ('FusedBatchNorm (ours)', cnn.FusedBatchNorm)):
        real, cnn.FusedBatchNorm = cnn.FusedBatchNorm, bn
        try: m = cnn.huang_cnn()
        finally: cnn.FusedBatchNorm = real
        m.fit(X[:200], Y[:200], batch_size=200, verbose=0)  # graph build
        t = time.perf_counter(); m.fit(X, Y, batch_size=200, verbose=0); per[label] = (time.perf_counter() - t) / n
        gflops = 3 * forward_flops(m) / per[label] / 1e9  # forward + backward (two products per layer) = 3 forwards
        out.append((f"Huang CNN train epoch, {n} windows 64 x 173, batch 200, {label}", f"{per[label] * 1e3:.2f} ms/window",
                    f"{gflops:.0f} GFLOP/s = {100 * gflops / peak:.0f}% of the matmul peak ({peak:.0f} GFLOP/s, 2048^2 float32, same run)"))
    a, b = per.values()
    out.append(("Huang CNN train epoch: naive / ours", f"{a / b:.2f}x", f"{3 * forward_flops(m) / 1e9:.2f} GFLOP per window forward + backward"))
    return out

def run(quick:bool=QUICK)->dict:
    "Measure; return {'rows': [(what, time, note), ...]} (callable from benchmarks/run.py)."
    rng = np.random.default_rng(0)
    rows = []
    rows += train_throughput(quick)
    # --- training: seconds per epoch of 1000 windows of 64 x 173 (Huang's net, batch 200) ---
    n_win = 200 if quick else 1000
    tracks = [rng.normal(0, 1, (64, 173 * 2)).astype(np.float32) for _ in range(n_win // 4)]
    y = np.arange(len(tracks)) % 10
    for width, head, name in [(64, 'flatten', "Huang CNN (exact)"), (16, 'timepool', "width 16 + time pooling")]:
        m = huang_cnn(head=head, width=width)
        train_cnn(m, (tracks[:20], y[:20]), epochs=1, n_random=4, batch_size=200)  # warm-up (graph build)
        c0 = time.process_time(); h = train_cnn(m, (tracks, y), epochs=1, n_random=4, batch_size=200)
        rows.append((f"train epoch, {n_win} windows x 64 x 173, batch 200, {name}", f"{h['seconds']:.1f} s",
                     f"{time.process_time() - c0:.1f} CPU-s"))
    # --- inference per 30 s clip, after load: the exact model and the small tiny-data model ---
    clip = synthesize_track('rock', seed=0, duration=30.0)
    n = 5 if quick else 20
    for _ in range(2): track_features([clip])  # warm-up (librosa/numba caches)
    t_feat = timeit(lambda: track_features([clip]), n, 'feat')
    rows.append(("log-mel extraction of one 30 s clip (64 x 2584)", f"{t_feat * 1e3:.0f} ms", f"{CPU['feat'] * 1e3:.0f} CPU-ms"))
    with tempfile.TemporaryDirectory() as d:
        for name, m in [("Huang CNN (exact)", huang_cnn()), ("width 16 + time pooling", huang_cnn(head='timepool', width=16))]:
            clf = make_classifier(m, [str(i) for i in range(10)], {'mean': [0.] * 64, 'std': [1.] * 64}, LOGMEL_INPUT)
            clf = load_classifier(save_classifier(clf, Path(d) / name[:5]))
            for _ in range(2): classify_audio(clf, clip, 22050)  # warm-up
            t_clip = timeit(lambda: classify_audio(clf, clip, 22050), n, 'clip')
            X = apply_norm(track_features([clip])[0][None], clf.config['norm'])
            W, _ = fixed_crops(X, 173, clf.config['hop'])
            batched = lambda: clf.model.predict_on_batch(W[..., None])
            t_batched = timeit(batched, n, 'model')
            t_predict = timeit(lambda: clf.model.predict(W[..., None], verbose=0), n)
            naive = lambda: [clf.model.predict(w[None, ..., None], verbose=0) for w in W]
            naive(); t_naive = timeit(naive, 3)
            rows += [
                (f"{name}: classify one 30 s clip (log-mel + {len(W)} windows + vote), after load", f"{t_clip * 1e3:.0f} ms", f"{CPU['clip'] * 1e3:.0f} CPU-ms; target < 50 ms"),
                (f"{name}: model only, one batched predict_on_batch (ours)", f"{t_batched * 1e3:.0f} ms", f"{CPU['model'] * 1e3:.0f} CPU-ms"),
                (f"{name}: model only, one model.predict call", f"{t_predict * 1e3:.0f} ms", f"{t_predict / t_batched:.1f}x ours"),
                (f"{name}: model only, naive: one model.predict per window", f"{t_naive * 1e3:.0f} ms", f"{t_naive / t_batched:.1f}x ours"),
            ]
            # --- a folder of clips: load + features + predict ---
            root = shared_data_dir() / 'gtzan-sample'
            paths = list(scan_gtzan(root)['path']) if root.exists() else []
            what = 'real gtzan-sample'
            if not paths:
                from genre_nbs.synthetic import make_synthetic_gtzan
                paths = list(scan_gtzan(make_synthetic_gtzan(Path(d) / 'syn', n_per_genre=2))['path']); what = 'synthetic'
            paths = paths[:10] if quick else paths
            t = time.perf_counter(); predict_tracks(clf, paths); dt = time.perf_counter() - t
            rows.append((f"{name}: folder of {len(paths)} 30 s clips ({what}), load + log-mel + predict",
                         f"{len(paths) / dt:.1f} clips/s", f"{dt / len(paths) * 1e3:.0f} ms/clip"))
    return dict(rows=rows, cpu=dict(CPU))

def main():
    rows = run(QUICK)['rows']
    load = os.getloadavg()[0]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    lines = ["## CNN", "",
             f"`python benchmarks/bench_cnn.py{' --quick' if QUICK else ''}`, {stamp}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs shared (load average {load:.1f} at the end), tensorflow-cpu, Keras 3.", "",
             "Wall times are medians and are inflated by the other jobs on the machine; CPU-ms/CPU-s (all threads of this "
             "process) do not depend on the load: on two free cores the wall time is roughly between CPU/2 and CPU.", "",
             "| what | time (wall) | note |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows] + [""]
    text = "\n".join(lines)
    print(text)

if __name__ == '__main__': main()
