"""genre-nbs benchmarks: one entry point. Every speed figure is a ratio against a naive baseline measured in the same
run (same process, same clips), with absolute seconds and peak memory.

Results: benchmarks/results.json (raw numbers) and benchmarks/results.md (rendered from it) are written only by this
script, each as a whole file, after every section. Sections not run now are kept from results.json (with their own
dates), so `--sections features` refreshes one section without losing the others; `--fresh` drops them. The
bench_*.py scripts, run on their own, only print.

Sections (each runs in its own fresh Python process, so imports, worker pools and peak memory do not leak between them):
  features   N 30 s clips: log-mel (128 mels, n_fft 2048, hop 512) and the Kaggle handcrafted table.
             naive: for each file `librosa.load` + `librosa.feature.melspectrogram` + `power_to_db` (log-mel), or the
             Kaggle notebook's calls (`librosa.load`, chroma_stft, rms, centroid, bandwidth, rolloff, zcr,
             `effects.hpss`, `beat_track`, mfcc, each from the waveform). ours: `extract_features` /
             `kaggle_features_table` with their defaults, cold (empty cache), n_jobs=1, and cached (the same call again),
             alternating with the naive loop over several rounds; plus loky worker processes (cold start and warm pool).
  memory     peak RSS of `extract_features` for 100 and 1000 tracks (the 50 shared clips repeated by path; generated
             clips without the shared data): streaming, so the peak does not grow with N.
  dsae       DSAE (8000 x 500, batch 512): naive `train_on_batch` loop vs `fit_dsae`, s/epoch; total for 200 epochs
             measured (projected with --quick).
  cnn        `bench_cnn.run`: CNN s/epoch; inference ms per 30 s clip vs one `model.predict` per window; clips/s.
  pretrained musicnn's Keras 3 port vs the original TF1 graph (graph import) in the same process: ms to run the network
             on one 30 s clip (10 patches) after loading, interleaved; GFLOP/s; input pipeline ms per clip.
  longfile   `bench_long_file.run`: peak RSS of `genre-nbs classify` (and `tag`) on a 60-minute file against a 30 s clip,
             one process each, for every kind of predictor (target: at most 1.5x).
  reproduce  wall time of `genre-nbs reproduce --preset quick` on the synthetic set, cold (fresh data dir); skipped
             when the CLI is not installed.

Usage (repo root; the machine should be otherwise idle, or the load is noted in the results):
    nice .venv/bin/python benchmarks/run.py [--quick] [--sections features memory dsae cnn pretrained longfile reproduce] [--no-write] [--fresh]
"""
import argparse, json, os, platform, resource, shutil, subprocess, sys, tempfile, time, warnings
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SECTIONS = ('features', 'memory', 'dsae', 'cnn', 'pretrained', 'longfile', 'reproduce')
sys.path.insert(0, str(HERE))

def rss_mb():
    "Peak RSS of this process so far (MB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def timed(f):
    t = time.perf_counter(); r = f(); return time.perf_counter() - t, r

def loadavg(): return tuple(round(x, 2) for x in os.getloadavg())

def fresh_pool():
    "Stop joblib's reusable loky pool, so that the next parallel call starts its workers again (a cold start)."
    from joblib.externals.loky import get_reusable_executor
    get_reusable_executor().shutdown(wait=True)

# ----------------------------------------------------------------------------------------------------------- features
def naive_kaggle(path):
    "The Kaggle notebook's way: load, then every feature computed from the waveform (its own STFT each)."
    import numpy as np, librosa
    y, sr = librosa.load(path)
    feats = [librosa.feature.chroma_stft(y=y, sr=sr), librosa.feature.rms(y=y),
             librosa.feature.spectral_centroid(y=y, sr=sr), librosa.feature.spectral_bandwidth(y=y, sr=sr),
             librosa.feature.spectral_rolloff(y=y, sr=sr), librosa.feature.zero_crossing_rate(y), *librosa.effects.hpss(y)]
    out = [f(a) for a in feats for f in (np.mean, np.var)]
    out.append(float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0])[0]))
    for c in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20): out += [np.mean(c), np.var(c)]
    return np.array(out)

def section_features(quick):
    """Log-mel and Kaggle table on the shared clips: the naive loop and ours interleaved, repeated, in this process.

    Per repetition: naive loop, then ours cold (empty cache) with the defaults, then n_jobs=1, then the cached rerun;
    each speed-up is the median over repetitions of naive / ours measured back to back, so a change in the machine's
    load (it is shared) hits both sides of a ratio alike."""
    import numpy as np, librosa, pandas as pd
    from bench_features import clips, worker_peak_mb
    from genre_nbs.data import shared_data_dir
    from genre_nbs.features import (extract_features, logmel, kaggle_features_table, kaggle_agreement, kaggle_features,
                                    DEFAULT_MEL, PROCESS_MIN_FILES, choose_executor)
    warnings.simplefilter('ignore')
    tmp = tempfile.TemporaryDirectory(); t = Path(tmp.name)
    n, n_k = (10, 4) if quick else (50, 16)
    reps, k_reps = (1, 1) if quick else (3, 2)
    paths, what = clips(n, False, t)
    kpaths = paths[::max(1, len(paths)//n_k)][:n_k]
    # warm-up of this process for both paths (imports, first STFT / filterbank, numba's compiled kernels from disk)
    z = np.random.default_rng(0).normal(size=22050 * 3).astype(np.float32)
    librosa.power_to_db(librosa.feature.melspectrogram(y=z, sr=22050)); logmel(z); kaggle_features(z); naive_kaggle(paths[0])
    ex = choose_executor(n, -1, None)
    out = dict(n=len(paths), n_kaggle=len(kpaths), clips=what, reps=reps, k_reps=k_reps, cpu_count=os.cpu_count(),
               executor=f"{ex[0]} {ex[2]}" if ex else 'this process', process_min_files=PROCESS_MIN_FILES)

    def naive_logmel():
        return [librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr)) for y, sr in map(librosa.load, paths)][-1]
    ours = lambda cache, **kw: extract_features(paths, logmel, DEFAULT_MEL, cache_dir=cache, progress=False, **kw)
    import genre_nbs.features as gf
    out['fft_backend'] = gf.FFT_BACKEND
    def ours_scipy_fft(cache):  # the same path without the `fast` extra (threads: the switch reaches every worker)
        saved, gf.FFT_BACKEND = gf.FFT_BACKEND, 'scipy'
        try: return ours(cache)
        finally: gf.FFT_BACKEND = saved
    rows = {k: [] for k in ('naive', 'cold', 'one', 'cached') + (('cold_scipy',) if gf.FFT_BACKEND != 'scipy' else ())}
    for r in range(reps):
        rows['naive'].append(timed(naive_logmel)[0])
        rows['cold'].append(timed(lambda: ours(t/f'c{r}'))[0])
        if 'cold_scipy' in rows: rows['cold_scipy'].append(timed(lambda: ours_scipy_fft(t/f's{r}'))[0])
        rows['one'].append(timed(lambda: ours(t/f'o{r}', n_jobs=1))[0])
        rows['cached'].append(timed(lambda: ours(t/f'c{r}'))[0])
    out['logmel'] = rows
    fs = ours(t/'c0'); fs1 = ours(t/'o0')
    out['logmel_bit_identical_threads_vs_n_jobs_1'] = all(np.array_equal(a, b) for a, b in zip(fs.X, fs1.X))
    if 'cold_scipy' in rows:  # ours_scipy_fft(t/'s0') ran cold above; this rerun reads its cache
        out['logmel_max_abs_diff_fft_backends_db'] = max(float(np.abs(a - b).max()) for a, b in zip(fs.X, ours(t/'s0').X))
    fresh_pool(); out['logmel_loky_cold_s'], fsl = timed(lambda: ours(t/'l1', backend='loky'))
    out['logmel_loky_warm_s'], _ = timed(lambda: ours(t/'l2', backend='loky'))
    out['logmel_bit_identical_loky'] = all(np.array_equal(a, b) for a, b in zip(fs.X, fsl.X))
    out['peak_workers_mb'], out['n_worker_procs'] = worker_peak_mb()
    diffs = []  # our log-mel against librosa's (top_db=80 on both), every clip
    for p, x in zip(paths, fs.X):
        y, sr = librosa.load(p); ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr))
        diffs.append(float(np.abs(x - np.maximum(ref, ref.max() - 80)).max()))
    out['logmel_max_abs_diff_db'] = max(diffs)

    krows = {k: [] for k in ('naive', 'cold', 'one', 'cached')}
    kours = lambda cache, **kw: kaggle_features_table(kpaths, cache_dir=cache, progress=False, **kw)
    for r in range(k_reps):
        krows['naive'].append(timed(lambda: [naive_kaggle(p) for p in kpaths])[0])
        krows['cold'].append(timed(lambda: kours(t/f'k{r}'))[0])
        krows['one'].append(timed(lambda: kours(t/f'ko{r}', n_jobs=1))[0])
        krows['cached'].append(timed(lambda: kours(t/f'k{r}'))[0])
    out['kaggle'] = krows
    tab, tab1 = kours(t/'k0'), kours(t/'ko0')
    out['kaggle_bit_identical_threads_vs_n_jobs_1'] = bool(tab.equals(tab1))
    fresh_pool(); out['kaggle_loky_cold_s'], tabl = timed(lambda: kours(t/'kl', backend='loky'))
    out['kaggle_bit_identical_loky'] = bool(tabl.equals(tab))
    csv = shared_data_dir()/'gtzan-features'/'features_30_sec.csv'
    if csv.is_file() and 'real' in what:
        ag = kaggle_agreement(tab, pd.read_csv(csv))
        nz = ag.drop(['harmony_mean', 'perceptr_mean'])
        out['kaggle_agreement'] = dict(n=int(ag.n.iloc[0]), all_within_1pct=bool((ag.within == ag.n).all()),
                                       max_rel=float(nz.max_rel.max()), worst=str(nz.max_rel.idxmax()))
    out['peak_main_mb'] = rss_mb()
    return out

# ------------------------------------------------------------------------------------------------------------- memory
def logmel_summary(y, sr=22050, **kw):
    "A small per-track result (mean and std of each log-mel band), so that the results do not dominate memory."
    import numpy as np
    from genre_nbs.features import logmel
    S = logmel(y, sr=sr, **kw)
    return np.concatenate([S.mean(-1), S.std(-1)])

def memory_run(n):
    "extract_features over n tracks (the shared clips repeated by path), in this fresh process: seconds and peaks."
    from bench_features import worker_peak_mb
    from genre_nbs.data import shared_data_dir, scan_gtzan
    from genre_nbs.synthetic import make_synthetic_gtzan
    from genre_nbs.features import extract_features
    warnings.simplefilter('ignore')
    sample = shared_data_dir()/'gtzan-sample'
    tmp = tempfile.TemporaryDirectory()
    if sample.is_dir(): base, what = list(scan_gtzan(sample).path), 'shared 30 s GTZAN clips repeated by path'
    else: base, what = list(scan_gtzan(make_synthetic_gtzan(Path(tmp.name), n_per_genre=5, duration=30.0)).path), 'generated 30 s clips repeated'
    paths = (base * (n // len(base) + 1))[:n]
    from genre_nbs.features import choose_executor
    ex = choose_executor(n, -1, None)
    secs, fs = timed(lambda: extract_features(paths, logmel_summary, n_jobs=-1, progress=False))
    assert len(fs) == n
    w, k = worker_peak_mb()
    return dict(n=n, what=what, seconds=secs, peak_main_mb=rss_mb(), peak_workers_mb=w, n_worker_procs=k,
                executor=f'{ex[0]} {ex[2]}' if ex else 'this process',
                result_mb=fs.X.nbytes / 2**20, raw_audio_if_held_mb=n * 30 * 22050 * 4 / 2**20)

def section_memory(quick):
    res = {}
    for n in ((50, 200) if quick else (100, 1000)):
        res[str(n)] = child('memory_run', dict(n=n))
    return res

# --------------------------------------------------------------------------------------------------------------- dsae
def section_dsae(quick):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import bench_dsae as bd
    from genre_nbs.autoencoders import build_dsae, fit_dsae
    timed_epochs, epochs = (2, 200) if quick else (3, 200)
    X, y = bd.data()
    out = dict(n=bd.N, n_in=bd.N_IN, batch=bd.BATCH, epochs=epochs)
    out['naive_first_s'], out['naive_s_per_epoch'], out['naive_cpu_s_per_epoch'] = bd.naive_epochs(X, y, timed_epochs)
    out['fit_first_s'], out['fit_s_per_epoch'], out['fit_cpu_s_per_epoch'] = bd.fit_epochs(X, y, timed_epochs)
    out['naive_total_projected_s'] = out['naive_first_s'] + (epochs - 1) * out['naive_s_per_epoch']
    out['fit_total_projected_s'] = out['fit_first_s'] + (epochs - 1) * out['fit_s_per_epoch']
    if not quick:
        m = build_dsae(bd.N_IN, bd.N_CLASSES)
        out['fit_total_s'], h = timed(lambda: fit_dsae(m, X, y, epochs=epochs, batch_size=bd.BATCH, seed=0))
        out['loss_first_last'] = [float(h['loss'][0]), float(h['loss'][-1])]
    out['peak_main_mb'] = rss_mb()
    return out

# ---------------------------------------------------------------------------------------------------------------- cnn
def section_cnn(quick):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import bench_cnn
    out = bench_cnn.run(quick=quick)
    out['peak_main_mb'] = rss_mb()
    return out

# --------------------------------------------------------------------------------------------------------- pretrained
def section_pretrained(quick):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import bench_pretrained
    out = bench_pretrained.run(quick=quick)
    out['peak_main_mb'] = rss_mb()
    return out

# ----------------------------------------------------------------------------------------------------------- longfile
def section_longfile(quick):
    import bench_long_file
    return bench_long_file.run(quick=quick)

# ---------------------------------------------------------------------------------------------------------- reproduce
def section_reproduce(quick, timeout=None):
    exe = Path(sys.executable).parent/'genre-nbs'
    exe = str(exe) if exe.exists() else shutil.which('genre-nbs')
    if exe is None or subprocess.run([exe, '--help'], capture_output=True).returncode != 0:
        return dict(skipped='CLI not available')
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, GENRE_NBS_DATA=str(Path(d)/'data'), TF_CPP_MIN_LOG_LEVEL='2')
        cmd = [exe, 'reproduce', '--preset', 'quick', '--quiet', '--out', str(Path(d)/'out')]
        t = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                             start_new_session=True)  # own process group: a timeout stops its workers too
        try:
            log, _ = p.communicate(timeout=timeout); rc, tail = p.returncode, log[-2000:]
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, 9); p.communicate(); rc, tail = None, f'stopped after {timeout} s'
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return dict(cmd='genre-nbs reproduce --preset quick --quiet (fresh GENRE_NBS_DATA: synthetic set generated)',
                wall_s=wall, rc=rc, finished=rc == 0, peak_child_mb=peak, tail=tail if rc != 0 else '')

# ------------------------------------------------------------------------------------------------------------- driver
def child(func, kwargs):
    "Run run.py's `func(**kwargs)` in a fresh Python process and return its dict."
    with tempfile.TemporaryDirectory() as d:
        res = Path(d)/'res.json'
        cmd = [sys.executable, __file__, '--_child', func, '--_kwargs', json.dumps(kwargs), '--_json', str(res)]
        r = subprocess.run(cmd, cwd=REPO)
        if r.returncode != 0 or not res.exists(): return dict(error=f'{func} failed (exit {r.returncode})')
        return json.loads(res.read_text())

def run(sections=SECTIONS, quick=False, reproduce_timeout=None, on_section=None, reuse=None):
    "Run the sections (each in a fresh process); return {'meta': ..., section: dict}; `reuse`: earlier sections to keep."
    meta = dict(date=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", cpu_count=os.cpu_count(),
                load_start=loadavg(), quick=quick, python=platform.python_version(), machine=platform.machine())
    try:
        import numpy, librosa, tensorflow as tf, keras
        meta['versions'] = f"numpy {numpy.__version__}, librosa {librosa.__version__}, tensorflow {tf.__version__}, keras {keras.__version__}"
    except Exception as e: meta['versions'] = f'? ({e})'
    meta['sections_run'] = list(sections)
    out = dict(meta=meta)
    for s, r in (reuse or {}).items():  # sections not run now: kept from the earlier run, with their own date
        if s in SECTIONS and s not in sections: out[s] = dict(r, reused=f"from an earlier run ({r.get('date', '?')})")
    for s in sections:
        t = time.perf_counter()
        print(f'[run.py] {s} ...', flush=True)
        if s == 'memory': out[s] = section_memory(quick)
        elif s == 'reproduce': out[s] = child('section_reproduce', dict(quick=quick, timeout=reproduce_timeout))
        else: out[s] = child(f'section_{s}', dict(quick=quick))
        out[s].update(load_end=loadavg(), section_s=time.perf_counter() - t, date=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
        print(f'[run.py] {s}: {json.dumps(out[s], default=str)[:600]}', flush=True)
        meta['load_end'] = loadavg()
        if on_section: on_section(out)  # e.g. rewrite results.md after every section
    return out

def _x(a, b):
    try: return f'{a / b:.1f}x'
    except (TypeError, ZeroDivisionError): return '-'

def _med(xs): return sorted(xs)[len(xs) // 2] if len(xs) % 2 else sum(sorted(xs)[len(xs)//2 - 1:len(xs)//2 + 1]) / 2

def features_md(f):
    "The '1. Feature extraction' section of results.md."
    L = ['## 1. Feature extraction', '']
    if 'error' in f: return L + [f"failed: {f['error']}", '']
    if 'logmel' not in f:  # an older run's layout
        return L + [f"(older format, {f.get('date', '?')}: rerun `benchmarks/run.py --sections features`)", '']
    n, k = f['n'], f['n_kaggle']
    L += [f"{f['clips']}; Kaggle table on {k} of them. `extract_features` defaults (`n_jobs=-1`, `backend=None`) ran "
          f"{f['executor']} here ({f['cpu_count']} cores; processes from {f['process_min_files']} uncached files on). "
          f"Naive and ours alternate in one process, {f['reps']} rounds for log-mel and {f['k_reps']} for the Kaggle "
          "table; seconds are medians over rounds, speed-ups the median of the per-round ratios naive / ours.", '',
          '| what | naive (s) | ours (s) | clips/s ours | speed-up | target |', '|---|---:|---:|---:|---:|---|']
    def row(label, d, key, m, target=''):
        ratio = _med([a / b for a, b in zip(d['naive'], d[key])])
        return (f"| {label} | {_med(d['naive']):.2f} | {_med(d[key]):.3f} | {m / _med(d[key]):.1f} | **{ratio:.1f}x** | {target} |")
    lm, kg = f['logmel'], f['kaggle']
    fft = {'mkl': "Intel MKL's FFT, the `fast` extra", 'scipy': "scipy's FFT"}.get(f.get('fft_backend'), 'scipy FFT')
    L += [row(f'log-mel, cold (empty cache), defaults ({fft})', lm, 'cold', n, '>= 3x')]
    if 'cold_scipy' in lm: L += [row("log-mel, cold, defaults, scipy's FFT (no `fast` extra)", lm, 'cold_scipy', n)]
    L += [
          row('log-mel, cold, n_jobs=1 (this process, one core)', lm, 'one', n),
          row('log-mel, cached rerun', lm, 'cached', n, '>= 50x'),
          row('Kaggle table (57 features), cold, defaults', kg, 'cold', k, '>= 3x'),
          row('Kaggle table, cold, n_jobs=1 (this process, one core)', kg, 'one', k),
          row('Kaggle table, cached rerun', kg, 'cached', k, '>= 50x'), '']
    nl, nk = _med(lm['naive']), _med(kg['naive'])
    L += [f"With `backend='loky'` (worker processes; the default from {f['process_min_files']} files on): log-mel "
          f"{f['logmel_loky_cold_s']:.2f} s including the workers' start-up ({nl / f['logmel_loky_cold_s']:.1f}x), "
          f"{f['logmel_loky_warm_s']:.2f} s with the pool already up ({nl / f['logmel_loky_warm_s']:.1f}x); Kaggle table "
          f"{f['kaggle_loky_cold_s']:.2f} s including start-up ({nk / f['kaggle_loky_cold_s']:.1f}x; ratios against the "
          "median naive time).", '']
    same = lambda b: 'yes' if b else '**no**'
    L += [f"Same numbers: our log-mel vs `power_to_db(melspectrogram)` (top_db 80 on both), max |difference| over all "
          f"{n} clips {f['logmel_max_abs_diff_db']:.1g} dB. Bit-identical arrays across executors: log-mel threads vs "
          f"n_jobs=1 {same(f['logmel_bit_identical_threads_vs_n_jobs_1'])}, vs loky {same(f['logmel_bit_identical_loky'])}; "
          f"Kaggle table threads vs n_jobs=1 {same(f['kaggle_bit_identical_threads_vs_n_jobs_1'])}, vs loky "
          f"{same(f['kaggle_bit_identical_loky'])}."]
    if 'logmel_max_abs_diff_fft_backends_db' in f:
        L[-1] += (f" MKL's and scipy's FFT give log-mels within {f['logmel_max_abs_diff_fft_backends_db']:.1g} dB of each "
                  "other (float32 rounding).")
    a = f.get('kaggle_agreement')
    if a: L[-1] += (f" Against the published `features_30_sec.csv` ({a['n']} clips, compat=True): every column within 1% on "
                    f"every clip: {same(a['all_within_1pct'])}; largest relative difference {a['max_rel']:.1g} ({a['worst']}; "
                    "the zero-centred harmony/perceptr means left out, see the features notebook).")
    L += ['', f"Peak memory: this process {f['peak_main_mb']:.0f} MB (holds all results); loky worker processes "
          f"{f['peak_workers_mb']:.0f} MB each at most ({f['n_worker_procs']} processes incl. loky's tracker).", '']
    return L

def report(res):
    "results.md text."
    m = res['meta']; L = []
    busy = max(m['load_start'][0], m.get('load_end', (0,))[0]) > 0.75 * (m['cpu_count'] or 1) + 0.5
    run_now = m.get('sections_run', list(SECTIONS))
    cmd = 'nice .venv/bin/python benchmarks/run.py' + (' --quick' if m['quick'] else '') + \
          ('' if set(run_now) == set(SECTIONS) else ' --sections ' + ' '.join(run_now))
    reused = [s for s in SECTIONS if s in res and 'reused' in res[s]]
    L += ['# Benchmarks', '',
          f"`{cmd}` — {m['date']}, {m['machine']}, "
          f"**os.cpu_count() = {m['cpu_count']}**, python {m['python']}, {m['versions']}.",
          f"Load average (1/5/15 min) at start {m['load_start']}, at end {m.get('load_end')}."
          + (f" Sections {', '.join(reused)} are kept from earlier runs (`benchmarks/results.json`; dates at the end)." if reused else ''),
          '']
    if busy:
        L += [f"> **Note: the machine was busy** (load average above its {m['cpu_count']} cores): other processes shared the CPU, so "
              "absolute seconds are inflated; ratios compare variants measured in the same run and are the figures to read.", '']
    L += ['Ratios are naive / ours (higher is better), each pair measured in the same process on the same clips. '
          'Every section runs in a fresh process; peak memory is the peak RSS (VmHWM / ru_maxrss) of that process, '
          'and of each worker process where there are workers.', '']
    f = res.get('features')
    if f: L += features_md(f)
    mem = res.get('memory')
    if mem:
        L += ['## Memory: extraction streams tracks', '',
              '`extract_features(paths, logmel_summary, n_jobs=-1)` (one 256-value summary per track, so results stay small), '
              'each N in a fresh process:', '',
              '| tracks | ran on | seconds | tracks/s | peak RSS main (MB) | peak RSS per worker process (MB) | raw audio if held at once (MB) |',
              '|---:|---|---:|---:|---:|---:|---:|']
        for key, r in mem.items():
            if not isinstance(r, dict) or 'n' not in r: continue
            pw = r['peak_workers_mb']
            L.append(f"| {r['n']} | {r.get('executor', 'loky processes')} | {r['seconds']:.1f} | {r['n']/r['seconds']:.1f} | "
                     f"{r['peak_main_mb']:.0f} | {'-' if pw != pw else f'{pw:.0f}'} | {r['raw_audio_if_held_mb']:.0f} |")
        ns = [r for r in mem.values() if isinstance(r, dict) and 'n' in r]
        if len(ns) == 2:
            a, b = ns
            L += ['', f"{b['n']//a['n']}x the tracks: peak main RSS x{b['peak_main_mb']/a['peak_main_mb']:.2f} ({ns[0]['what']}); "
                  "threads hold one clip per thread in the main process, worker processes one clip each: the peak does not "
                  "grow with N."]
        L.append('')
    d = res.get('dsae')
    if d and 'error' not in d:
        L += ['## 2. DSAE training', '', f"{d['n']} x {d['n_in']} float32 (random values: dense-layer speed does not depend on them), "
              f"4 classes, batch {d['batch']}. Per-epoch times are medians after a warm-up epoch; CPU-s = user+system seconds of all threads.", '',
              '| variant | first epoch (s, incl. tracing) | s / epoch | CPU-s / epoch | 200 epochs (s) |', '|---|---:|---:|---:|---:|',
              f"| naive `train_on_batch` loop | {d['naive_first_s']:.2f} | {d['naive_s_per_epoch']:.3f} | {d['naive_cpu_s_per_epoch']:.3f} | {d['naive_total_projected_s']:.0f} (projected) |",
              f"| `fit_dsae` (one seeded shuffle + `fit` call per epoch, steps_per_execution=32) | {d['fit_first_s']:.2f} | {d['fit_s_per_epoch']:.3f} | {d['fit_cpu_s_per_epoch']:.3f} | "
              + (f"**{d['fit_total_s']:.1f} (measured)**" if 'fit_total_s' in d else f"{d['fit_total_projected_s']:.0f} (projected)") + ' |', '',
              f"Speed-up per epoch: {_x(d['naive_s_per_epoch'], d['fit_s_per_epoch'])} (wall), {_x(d['naive_cpu_s_per_epoch'], d['fit_cpu_s_per_epoch'])} (CPU). "
              + (f"200 epochs: naive projected / measured = {_x(d['naive_total_projected_s'], d['fit_total_s'])}; loss {d['loss_first_last'][0]:.3f} -> {d['loss_first_last'][1]:.3f}. " if 'fit_total_s' in d else '')
              + f"Authors: ~20 min (1200 s); target < 90 s. Peak RSS {d['peak_main_mb']:.0f} MB.", '']
    elif d: L += ['## 2. DSAE training', '', f"failed: {d['error']}", '']
    c = res.get('cnn')
    if c and 'error' not in c:
        L += ['## 3. CNN', '', '| what | time | note |', '|---|---|---|'] + [f'| {a} | {b} | {n} |' for a, b, n in c['rows']]
        L += ['', f"Peak RSS {c['peak_main_mb']:.0f} MB. The first three rows time one training epoch of Huang's network built with "
              "Keras's own BatchNormalization (naive) and with `cnn.FusedBatchNorm` (ours), with the GFLOP/s it reaches against a float32 "
              "matmul measured in the same run; the inference ratios are against one `model.predict` call per window.", '']
    elif c: L += ['## 3. CNN', '', f"failed: {c['error']}", '']
    p = res.get('pretrained')
    if p and 'error' not in p:
        port, orig = 'Keras 3 port (fused, tf.function)', 'original TF1 graph (graph import, Session)'
        L += ['## Pretrained tagger (musicnn)', '',
              f"Running {p['model']} on one 30 s clip (10 patches of 3 s, {p['gflop_per_clip']:.1f} GFLOP of conv and dense "
              f"layers) after loading, on {p['n_clips']} {p['clips']}, the two interleaved in one process (median of the rounds):", '',
              '| network | ms per clip | GFLOP/s |', '|---|---:|---:|']
        L += [f"| {k} | {v:.0f} | {p['gflops'][k]:.0f} |" for k, v in p['ms_per_clip'].items()]
        L += ['', f"The port is {p['ratio']:.2f}x as fast as the original graph (target: at least as fast, and under 250 ms "
              f"per clip). The input pipeline (16 kHz, mel power, log, patches) adds {p['input_ms_per_clip']:.0f} ms per clip. "
              f"Peak RSS {p['peak_main_mb']:.0f} MB.", '']
    elif p: L += ['## Pretrained tagger (musicnn)', '', f"failed: {p['error']}", '']
    lf = res.get('longfile')
    if lf and 'error' not in lf:
        import bench_long_file
        L += ['## One long file (memory)', '',
              f"Peak RSS of one `genre-nbs` process on a {lf['minutes']:g}-minute file ({lf['long_file_mb']:.0f} MB of 16-bit PCM) "
              "against the same command on one 30 s clip (models trained with the `tiny` preset; target ratio at most 1.5):", '',
              bench_long_file.table(lf), '']
    elif lf: L += ['## One long file (memory)', '', f"failed: {lf['error']}", '']
    r = res.get('reproduce')
    if r:
        L += ['## 4. `genre-nbs reproduce --preset quick`', '']
        if 'skipped' in r: L += [f"skipped: {r['skipped']}", '']
        else:
            state = 'finished' if r['finished'] else (f"exit code {r['rc']}" if r['rc'] is not None else 'did not finish: ' + r['tail'])
            L += [f"{r['cmd']}: **{r['wall_s']:.0f} s** wall ({r['wall_s']/60:.1f} min; {state}); target < 10 min. "
                  f"Peak RSS of the CLI process {r['peak_child_mb']:.0f} MB.", '']
    L += ['## Per-section load average at the end', '',
          ' | '.join(f"{s}: {res[s].get('load_end')} at {res[s].get('date', '?')}" + (' (reused from an earlier run)' if 'reused' in res[s] else '')
                     for s in SECTIONS if s in res), '']
    return '\n'.join(L)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='small N and few epochs (a couple of minutes; smoke test)')
    ap.add_argument('--sections', '--only', nargs='+', choices=SECTIONS, default=list(SECTIONS), metavar='NAME',
                    help=f"which sections, in order (default: all of {', '.join(SECTIONS)}); the others are kept from "
                         "benchmarks/results.json")
    ap.add_argument('--reproduce-timeout', type=float, default=None, help='stop `genre-nbs reproduce` after this many seconds')
    ap.add_argument('--no-write', action='store_true', help='print only; write neither results.md nor results.json')
    ap.add_argument('--json', help='also write the raw numbers to this JSON file')
    ap.add_argument('--reuse', default=str(HERE/'results.json'),
                    help='raw numbers of earlier runs: sections not run now are reported from it (default: benchmarks/results.json)')
    ap.add_argument('--fresh', action='store_true', help='report only the sections run now (ignore --reuse)')
    ap.add_argument('--_child', help=argparse.SUPPRESS); ap.add_argument('--_kwargs', help=argparse.SUPPRESS)
    ap.add_argument('--_json', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a._child:  # internal: one section in this fresh process
        r = globals()[a._child](**json.loads(a._kwargs))
        Path(a._json).write_text(json.dumps(r, default=float)); return r
    def save(res):  # after every section: results.json (raw) and results.md (rendered from it) are the whole file, rewritten
        if a.json: Path(a.json).write_text(json.dumps(res, indent=1, default=str))
        if not a.no_write:
            (HERE/'results.json').write_text(json.dumps(res, indent=1, default=str))
            (HERE/'results.md').write_text(report(res))
    reuse = json.loads(Path(a.reuse).read_text()) if a.reuse and not a.fresh and Path(a.reuse).is_file() else None
    res = run(a.sections, a.quick, a.reproduce_timeout, on_section=save, reuse=reuse)
    print(report(res))
    if not a.no_write: print(f'wrote {HERE/"results.md"} and {HERE/"results.json"}')
    return res

if __name__ == '__main__': main()
