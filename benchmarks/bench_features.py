"""Feature extraction throughput on 30 s clips: a naive per-file librosa loop vs `genre_nbs.features.extract_features`.

Clips: the 50 real GTZAN clips of ../shared/data/gtzan-sample (22050 Hz mono wav), or, when that is absent,
N generated 30 s clips (`make_synthetic_gtzan`). All variants are timed in one process, in this order:
  naive         for each file: `y, sr = librosa.load(path)`; `librosa.feature.melspectrogram(y=y, sr=sr)`
                (librosa.load decodes with soundfile and, as GTZAN is already 22050 Hz, does not resample either)
  n_jobs=1      `extract_features(paths, logmel, n_jobs=1)`: the per-file work alone, in this process, no cache
  cold          `extract_features(paths, logmel, n_jobs=-1, cache_dir=<empty>)`: loky worker processes started by
                this call (their imports and librosa's first-call set-up included), soundfile decoding, a cached mel
                filterbank and a matrix product instead of librosa's einsum, log-mel in dB, per-file cache written
  cold, warm    the same on a second empty cache, the worker pool already running (steady-state throughput)
  threads       the same with backend='threading' (no worker start-up; scipy's FFT and BLAS release the GIL)
  cached        the `cold` call again: every file read from the per-file .npz cache, no worker started
Before timing, the main process warms up librosa (imports, first STFT) so the naive loop is not charged for it.
Memory: ru_maxrss of this process after the naive loop and at the end, and the peak RSS (VmHWM) of the workers.
Results are appended to benchmarks/results.md under "## Feature extraction".

Usage: nice python benchmarks/bench_features.py [--n 50] [--synthetic] [--no-append]
"""
import argparse, os, platform, resource, sys, tempfile, time, warnings
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
import librosa
from genre_nbs.data import shared_data_dir, scan_gtzan, make_synthetic_gtzan
from genre_nbs.features import extract_features, logmel

def clips(n, synthetic, tmp):
    sample = shared_data_dir()/'gtzan-sample'
    if sample.is_dir() and not synthetic:
        return list(scan_gtzan(sample).path[:n]), f'{min(n, 50)} real GTZAN clips (shared gtzan-sample)'
    per = max(1, -(-n // 10))
    root = make_synthetic_gtzan(Path(tmp)/'synth', n_per_genre=per, duration=30.0)
    return list(scan_gtzan(root).path[:n]), f'{n} generated 30 s clips'

def rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def descendants(pid):
    "pids of all descendant processes (loky workers), from /proc."
    kids = {}
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try: kids.setdefault(int((d/'stat').read_text().rsplit(')', 1)[1].split()[1]), []).append(int(d.name))
            except (OSError, IndexError, ValueError): pass
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []): out.append(c); todo.append(c)
    return out

def worker_peak_mb():
    peaks = []
    for p in descendants(os.getpid()):
        try:
            for line in Path(f'/proc/{p}/status').read_text().splitlines():
                if line.startswith('VmHWM:'): peaks.append(int(line.split()[1]) / 1024)
        except OSError: pass
    return max(peaks, default=float('nan')), len(peaks)

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=50, help='number of 30 s clips')
    ap.add_argument('--synthetic', action='store_true', help='use generated clips even if the shared ones exist')
    ap.add_argument('--no-append', action='store_true', help='do not append to benchmarks/results.md')
    a = ap.parse_args()
    warnings.simplefilter('ignore')
    tmp = tempfile.TemporaryDirectory()
    paths, what = clips(a.n, a.synthetic, tmp.name)
    n = len(paths)
    # warm-up of the main process (imports, first STFT) for both paths
    librosa.feature.melspectrogram(y=np.zeros(22050, np.float32), sr=22050); logmel(np.zeros(22050, np.float32))

    def naive():
        for p in paths:
            y, sr = librosa.load(p)
            S = librosa.feature.melspectrogram(y=y, sr=sr)
        return S
    load0 = os.getloadavg()[0]
    t_naive, S_naive = timed(naive); rss_naive = rss_mb()
    t_one, _ = timed(lambda: extract_features(paths, logmel, n_jobs=1, progress=False))  # same work, this process
    c1, c2, c3 = (Path(tmp.name)/f'cache{i}' for i in (1, 2, 3))
    run = lambda cache, **kw: extract_features(paths, logmel, cache_dir=cache, n_jobs=-1, progress=False, **kw)
    t_cold, fs = timed(lambda: run(c1))
    t_warm, _ = timed(lambda: run(c2))
    w_peak, n_workers = worker_peak_mb()
    t_thr, _ = timed(lambda: run(c3, backend='threading'))
    t_cached, fs2 = timed(lambda: run(c1))
    assert len(fs) == n and all(np.array_equal(a, b) for a, b in zip(fs.X, fs2.X))
    nbytes = sum(x.nbytes for x in fs.X)
    # same numbers as the naive path (dB of librosa's mel power), to float32 rounding
    ref = librosa.power_to_db(S_naive)
    err = float(np.abs(fs.X[-1] - np.maximum(ref, ref.max() - 80)).max())

    rows = [('naive loop (librosa.load + melspectrogram)', t_naive),
            ('extract_features n_jobs=1, no cache (per-file work only)', t_one),
            ('extract_features cold (incl. worker start-up)', t_cold),
            ('extract_features cold, workers warm', t_warm),
            ("extract_features cold, backend='threading'", t_thr),
            ('extract_features cached rerun', t_cached)]
    nproc = os.cpu_count()
    lines = [f"### {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {what}, nproc={nproc}, "
             f"librosa {librosa.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
             f"load average {load0:.1f} at start / {os.getloadavg()[0]:.1f} at end",
             "", "| variant | seconds | clips/s | speed-up vs naive |", "|---|---:|---:|---:|"]
    for name, t in rows: lines.append(f"| {name} | {t:.2f} | {n/t:.1f} | {t_naive/t:.1f}x |")
    lines += ["", f"Peak memory: main process ru_maxrss {rss_naive:.0f} MB after the naive loop, {rss_mb():.0f} MB at the "
              f"end (it holds the {nbytes/2**20:.0f} MB of results); {n_workers} worker-side process(es) (loky workers + tracker), peak RSS "
              f"{w_peak:.0f} MB each at most (one clip's audio + features at a time). Max |difference| to "
              f"power_to_db(melspectrogram) on the last clip: {err:.2g} dB.",
              "Machine shared with other jobs while measuring (load varies): ratios are from one run, compare within it.", ""]
    text = '\n'.join(lines)
    print(text)
    if not a.no_append:
        res = Path(__file__).resolve().parent/'results.md'
        old = res.read_text() if res.exists() else '# Benchmarks\n'
        if '## Feature extraction' not in old:
            old = old.rstrip('\n') + "\n\n## Feature extraction\n\n`nice python benchmarks/bench_features.py` (see its docstring for what each row does).\n\n"
        head, _, tail = old.partition('## Feature extraction')
        nxt = tail.find('\n## ', 1)  # insert at the end of this section
        body, rest = (tail, '') if nxt < 0 else (tail[:nxt], tail[nxt:])
        res.write_text(head + '## Feature extraction' + body.rstrip('\n') + '\n\n' + text + rest)
        print(f'appended to {res}')

if __name__ == '__main__':
    main()
