#!/usr/bin/env python
"""The test suite `make test` runs: the nbdev sync check, `nbdev_test` on every notebook, then `pytest tests/`.

Prints one closing line `N passed, N failed[, N skipped]` that counts each notebook and each pytest test, and exits
non-zero if anything failed."""
import hashlib, os, re, shutil, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONWARNINGS='ignore::DeprecationWarning', MPLBACKEND='Agg')

def digest(folder):
    "Hash of every .py file under `folder`, to see whether nbdev_export changed anything."
    h = hashlib.sha256()
    for p in sorted(folder.rglob('*.py')): h.update(p.name.encode()); h.update(p.read_bytes())
    return h.hexdigest()

def sync_check():
    "genre_nbs/ must be exactly what nbdev_export makes from nbs/."
    before = digest(ROOT/'genre_nbs')
    r = subprocess.run([BIN/'nbdev_export'], cwd=ROOT, env=ENV, capture_output=True, text=True)
    if r.returncode: print(r.stdout, r.stderr); return False
    ok = digest(ROOT/'genre_nbs') == before
    print('sync check:', 'genre_nbs/ matches nbs/' if ok else
          'FAILED: nbdev_export changed genre_nbs/ -- the committed package was out of sync with nbs/')
    return ok

def run_notebooks():
    "Run nbdev_test over nbs/; return (passed, failed) notebook counts."
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
    t0 = time.time()
    r = subprocess.run([BIN/'nbdev_test', '--n_workers', '2', '--timing'], cwd=ROOT, env=ENV, capture_output=True, text=True)
    out = r.stdout + r.stderr
    print('\n'.join(l for l in r.stdout.splitlines() if l.strip()))
    failed = set()
    if r.returncode:
        tail = out.split('nbdev Tests Failed On The Following Notebooks:')[-1]
        failed = {n for n in nbs if n in tail}
        print(out[-20000:])
        if not failed: failed = set(nbs)  # nbdev_test died before naming notebooks: count them all as failed
    print(f'nbdev_test: {len(nbs) - len(failed)} notebooks passed, {len(failed)} failed ({time.time() - t0:.0f} s)')
    return len(nbs) - len(failed), len(failed)

def run_pytest():
    "Run pytest over tests/; return (passed, failed, skipped)."
    with tempfile.TemporaryDirectory() as d:
        xml = Path(d)/'junit.xml'
        r = subprocess.run([BIN/'python', '-m', 'pytest', 'tests', '-q', '-rs', f'--junitxml={xml}'], cwd=ROOT, env=ENV)
        if not xml.exists(): return 0, 1, 0
        s = ET.parse(xml).getroot()
        s = s if s.tag == 'testsuite' else s.find('testsuite')
        n, f, e, k = (int(s.get(a, 0)) for a in ('tests', 'failures', 'errors', 'skipped'))
        if r.returncode not in (0, 5) and f + e == 0: f = 1   # pytest itself failed (collection, internal error)
        return n - f - e - k, f + e, k

WARM_NUMBA = """
import numpy as np
from genre_nbs.features import kaggle_features, logmel, mfcc
for dt in (np.float32, np.float64):
    y = (np.random.default_rng(0).standard_normal(22050 * 3) * 0.1).astype(dt)
    kaggle_features(y, 22050); logmel(y); mfcc(y)
"""

def warm_numba_cache():
    """Compile librosa's cached numba functions once, in one process, into a fresh cache folder for this run.
    Several processes compiling the same function into an empty cache at once (parallel notebooks, loky workers)
    can leave a cache entry that later segfaults on load; filling it serially first avoids that."""
    d = tempfile.mkdtemp(prefix='genre-nbs-numba-')
    ENV['NUMBA_CACHE_DIR'] = d
    t0 = time.time()
    r = subprocess.run([BIN/'python', '-c', WARM_NUMBA], cwd=ROOT, env=ENV, capture_output=True, text=True)
    print(f'numba cache warmed in {time.time() - t0:.0f} s ({d})' if r.returncode == 0 else
          f'numba warm-up failed (tests go on):\n{r.stderr[-2000:]}')

if __name__ == '__main__':
    ok_sync = sync_check()
    warm_numba_cache()
    try:
        nb_pass, nb_fail = run_notebooks()
        py_pass, py_fail, py_skip = run_pytest()
    finally:  # the run's own numba cache folder goes with the run
        shutil.rmtree(ENV['NUMBA_CACHE_DIR'], ignore_errors=True)
    passed, failed = nb_pass + py_pass + ok_sync, nb_fail + py_fail + (not ok_sync)
    print(f'notebooks: {nb_pass} passed, {nb_fail} failed; pytest: {py_pass} passed, {py_fail} failed, {py_skip} skipped; '
          f'sync check: {"passed" if ok_sync else "failed"}')
    print(f'{passed} passed, {failed} failed, {py_skip} skipped')
    sys.exit(1 if failed else 0)
