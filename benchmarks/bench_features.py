"""Feature extraction throughput on 30 s clips: helpers of the `features` section of benchmarks/run.py, and that
section on its own.

What is measured (see `run.section_features`): on the 50 real GTZAN clips of ../shared/data/gtzan-sample (22050 Hz mono
wav; N generated 30 s clips when absent), in one process, several rounds of
  naive    for each file: `y, sr = librosa.load(path)`; `librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))`
           (librosa.load decodes with soundfile and, GTZAN being 22050 Hz already, does not resample either), and for
           the Kaggle table the Kaggle notebook's separate librosa calls per file
  ours     `extract_features(paths, logmel, DEFAULT_MEL, cache_dir=<empty>)` with its defaults, `n_jobs=1`, and the
           cached rerun; `kaggle_features_table` likewise
alternating naive / ours so that both see the same machine load; then loky worker processes, cold and warm.

Run alone this script only prints the section; `nice .venv/bin/python benchmarks/run.py --sections features` is the one
that records it in benchmarks/results.md (and results.json), keeping the other sections.

Usage: nice .venv/bin/python benchmarks/bench_features.py [--quick]
"""
import argparse, os, sys
from pathlib import Path
from genre_nbs.data import shared_data_dir, scan_gtzan
from genre_nbs.synthetic import make_synthetic_gtzan

def clips(n, synthetic, tmp):
    sample = shared_data_dir()/'gtzan-sample'
    if sample.is_dir() and not synthetic:
        return list(scan_gtzan(sample).path[:n]), f'{min(n, 50)} real GTZAN clips (shared gtzan-sample)'
    per = max(1, -(-n // 10))
    root = make_synthetic_gtzan(Path(tmp)/'synth', n_per_genre=per, duration=30.0)
    return list(scan_gtzan(root).path[:n]), f'{n} generated 30 s clips'

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

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='10 clips (4 for the Kaggle table), one round')
    a = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run
    f = run.section_features(a.quick)
    print('\n'.join(run.features_md(f)))

if __name__ == '__main__':
    main()
