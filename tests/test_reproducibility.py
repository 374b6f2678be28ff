"""Issue 9: the same seed gives the same numbers -- synthetic data, random windows, splits, cached segments, and a whole
`genre-nbs reproduce` run of every family (two separate processes with separate caches must write identical
results.json numbers; a run killed with SIGKILL and resumed must write them too)."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from genre_nbs.data import scan_gtzan, split_tracks, make_segments, leaky_split, random_windows, GTZAN_GENRES
from genre_nbs.synthetic import make_synthetic_gtzan, synthesize_track

GENRES = ['classical', 'jazz', 'metal', 'pop']


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob('*.wav'))}


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    "Two synthetic sets written independently with the same seed, one with another seed."
    d = tmp_path_factory.mktemp('synth')
    kw = dict(n_per_genre=3, duration=2.5, genres=GENRES)
    return (make_synthetic_gtzan(d/'a', seed=0, **kw), make_synthetic_gtzan(d/'b', seed=0, **kw),
            make_synthetic_gtzan(d/'c', seed=1, **kw))


def test_synthetic_set_is_bit_identical(synth):
    a, b, c = synth
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert len(da) == 12 and da == db                     # same seed: the same bytes
    assert da.keys() == dc.keys() and all(da[k] != dc[k] for k in da)  # another seed: other audio
    y1, y2 = synthesize_track('jazz', 7, duration=1.0), synthesize_track('jazz', 7, duration=1.0)
    assert y1.dtype == np.float32 and np.array_equal(y1, y2) and not np.array_equal(y1, synthesize_track('jazz', 8, duration=1.0))


def test_split_is_reproducible(synth):
    tr = scan_gtzan(synth[0])
    s0, s1 = split_tracks(tr, seed=0), split_tracks(tr, seed=0)
    assert s0.tolist() == s1.tolist() and s0.index.equals(tr.index)
    # another seed gives another split (of the same tracks)
    assert any(split_tracks(tr, seed=k).tolist() != s0.tolist() for k in range(1, 6))
    big = pd.DataFrame(dict(genre=np.repeat(GTZAN_GENRES, 10), artist=[f'a{i // 3}' for i in range(100)]))
    for proto, kw in [('track', {}), ('group', dict(group_col='artist'))]:
        assert split_tracks(big, proto, seed=3, **kw).tolist() == split_tracks(big, proto, seed=3, **kw).tolist()
    assert np.array_equal(leaky_split(500, seed=2), leaky_split(500, seed=2))


def test_random_windows_and_segments_are_reproducible(synth, tmp_path):
    tr = scan_gtzan(synth[0])
    y = np.arange(10000, dtype=np.float32)
    assert np.array_equal(random_windows(y, 100, 8, seed=5), random_windows(y, 100, 8, seed=5))
    assert not np.array_equal(random_windows(y, 100, 8, seed=5), random_windows(y, 100, 8, seed=6))
    kw = dict(kind='random', win_s=0.5, n_random=3, seed=0, progress=False)
    a = make_segments(tr, cache_dir=False, **kw)
    b = make_segments(tr, cache_dir=tmp_path/'c1', **kw)            # computed, written to a cache
    c = make_segments(tr, cache_dir=tmp_path/'c1', **kw)            # read back from the cache
    for s in (b, c):
        assert np.array_equal(a.X, s.X) and np.array_equal(a.y, s.y) and np.array_equal(a.track, s.track)
    # a track's windows depend on its seed and row position only, not on what else was loaded before it
    assert np.array_equal(make_segments(tr.iloc[:2], cache_dir=False, **kw).X, a.X[:6])
    e = make_segments(tr, cache_dir=False, **dict(kw, seed=1))
    assert not np.array_equal(a.X, e.X)


NUMERIC_SKIP = {'seconds', 'model_seconds', 'figures'}


def _numbers(res: dict) -> list:
    "The result rows without timings: every number must repeat exactly."
    return [{k: v for k, v in r.items() if k not in NUMERIC_SKIP} for r in res['rows']]


def _reproduce(data: Path, out: Path, cache: Path, *extra, kill_when: Path | None = None) -> dict | None:
    env = dict(os.environ, GENRE_NBS_DATA=str(cache), TF_CPP_MIN_LOG_LEVEL='2', PYTHONHASHSEED='0',
               CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1')
    cmd = [sys.executable, '-c', 'import sys; from genre_nbs.cli import main; sys.exit(main())', 'reproduce', '--data', str(data), '--preset', 'tiny', '--seed', '0',
           '--out', str(out), '--quiet', *extra]  # every family
    if kill_when is not None:  # start the run, SIGKILL it as soon as `kill_when` exists (a family finished)
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while p.poll() is None and time.time() - t0 < 900:
            if kill_when.exists(): os.kill(p.pid, signal.SIGKILL); break
            time.sleep(0.01)
        p.wait(timeout=60)
        assert p.returncode == -signal.SIGKILL, f'the run ended ({p.returncode}) before it could be killed'
        return None
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, f'{cmd} exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-3000:]}'
    return json.loads((out/'results.json').read_text())


@pytest.fixture(scope='module')
def synth30(tmp_path_factory):
    "Full-length clips (the DSAE reads 27.2 s of each), 3 per genre."
    return make_synthetic_gtzan(tmp_path_factory.mktemp('synth30'), seed=0, n_per_genre=3, duration=28.0, genres=GENRES)


def test_reproduce_twice_gives_identical_results(synth30, tmp_path):
    "The tiny preset (every family, one or two epochs) on 12 clips, twice in fresh processes with separate caches: identical numbers."
    t0 = time.time()
    r1 = _reproduce(synth30, tmp_path/'run1', tmp_path/'cache1')
    r2 = _reproduce(synth30, tmp_path/'run2', tmp_path/'cache2')  # fresh process, fresh cache: everything recomputed
    n1, n2 = _numbers(r1), _numbers(r2)
    assert len(n1) >= 19 and all(r.get('status') == 'ok' for r in r1['rows']), r1['rows']
    for a, b in zip(n1, n2): assert a == b, f"results differ between two identical runs:\n{a}\n{b}"
    assert len(n1) == len(n2)
    assert r1['config_key'] == r2['config_key'] and r1['dataset']['split'] == r2['dataset']['split']
    # a run killed after its families finished but before the report (results.* gone, a temp file left) is resumed:
    # nothing is retrained (the family's recorded seconds come back unchanged) and the numbers are the same
    for f in ('results.json', 'results.md'): (tmp_path/'run1'/f).unlink()
    (tmp_path/'run1'/'.tmp-killed.json').write_text('{"half')
    r3 = _reproduce(synth30, tmp_path/'run1', tmp_path/'cache1', '--resume')
    assert _numbers(r3) == n1 and r3['timings']['svm'] == r1['timings']['svm']
    # a real kill -9 in the middle of a family (the DSAE family: its two-layer net finished, the DSAE in training),
    # then --resume: finished families are reused, the DSAE family continues from its networks' saved training states,
    # and the numbers are those of the uninterrupted run
    run4 = tmp_path/'run4'
    _reproduce(synth30, run4, tmp_path/'cache1', kill_when=run4/'runs'/'dsae.ckpt'/'dsae'/'train_state.npz')
    assert not (run4/'results.json').exists() and not (run4/'runs'/'dsae.json').exists()
    assert (run4/'runs'/'dsae.ckpt'/'two_layer_nn_dsae'/'train_state.npz').exists()
    done = {f: json.loads((run4/'runs'/f'{f}.json').read_text())['seconds'] for f in ('rf', 'svm')}
    r4 = _reproduce(synth30, run4, tmp_path/'cache1', '--resume')
    assert _numbers(r4) == n1 and all(r4['timings'][f] == s for f, s in done.items())
    assert not list(run4.glob('.tmp-*')) and not list((run4/'runs').glob('.tmp-*')) and not list((run4/'runs').glob('*.ckpt'))
    print(f"reproduce ran twice in {time.time() - t0:.0f} s: {len(n1)} rows identical; killed run resumed to the same numbers")
