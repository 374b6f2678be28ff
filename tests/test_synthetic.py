"""The embedded default dataset: make_synthetic_gtzan writes the GTZAN layout, deterministically and idempotently."""
import json

import numpy as np
import soundfile as sf

from genre_nbs.data import GTZAN_GENRES, scan_gtzan
from genre_nbs.synthetic import LEVEL_DBFS, make_synthetic_gtzan, synthesize_track

GENRES = ['classical', 'hiphop', 'metal']
N, DUR, SR = 2, 1.0, 22050


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob('*.wav'))


def test_layout_determinism_and_idempotence(tmp_path):
    a = make_synthetic_gtzan(tmp_path / 'a', n_per_genre=N, duration=DUR, sr=SR, seed=3, genres=GENRES, n_jobs=1)
    b = make_synthetic_gtzan(tmp_path / 'b', n_per_genre=N, duration=DUR, sr=SR, seed=3, genres=GENRES, n_jobs=2)
    assert a == tmp_path / 'a'
    want = [f'genres/{g}/{g}.{i:05d}.wav' for g in GENRES for i in range(N)]
    assert _files(a) == _files(b) == want
    for rel in want:                                     # bit-identical across runs (and worker counts)
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
        y, sr = sf.read(a / rel, dtype='float32')
        info = sf.info(a / rel)
        assert sr == SR and info.channels == 1 and info.subtype == 'PCM_16' and y.shape == (int(DUR * SR),)
        rms_db = 20 * np.log10(np.sqrt(np.mean(y.astype(float) ** 2)))  # loudness from one range for every genre, or a peak held at 0.99
        assert np.isfinite(y).all() and np.abs(y).max() <= 0.99 + 1e-4 and abs(y.mean()) < 1e-2
        assert LEVEL_DBFS[0] - 0.1 <= rms_db <= LEVEL_DBFS[1] + 0.1 or np.abs(y).max() > 0.98, (rel, rms_db)
    assert not any(p.name.endswith('.part') for p in a.rglob('*'))     # no temporary files left behind
    ref = tmp_path / 'ref.txt'; ref.write_text('')                    # files get the usual mode (umask), not 0600
    assert {(a / rel).stat().st_mode & 0o777 for rel in want} == {ref.stat().st_mode & 0o777}

    stamps = {rel: (a / rel).stat().st_mtime_ns for rel in want}      # rerun: nothing rewritten
    make_synthetic_gtzan(a, n_per_genre=N, duration=DUR, sr=SR, seed=3, genres=GENRES)
    assert {rel: (a / rel).stat().st_mtime_ns for rel in want} == stamps

    (a / want[0]).unlink()                                             # a missing file is regenerated, identically
    make_synthetic_gtzan(a, n_per_genre=N, duration=DUR, sr=SR, seed=3, genres=GENRES)
    assert (a / want[0]).read_bytes() == (b / want[0]).read_bytes()

    c = make_synthetic_gtzan(tmp_path / 'c', n_per_genre=N, duration=DUR, sr=SR, seed=4, genres=GENRES)
    assert (c / want[0]).read_bytes() != (a / want[0]).read_bytes()   # another seed, other music

    make_synthetic_gtzan(a, n_per_genre=1, duration=DUR, sr=SR, seed=4, genres=['metal'])   # new params: replaced
    assert _files(a) == ['genres/metal/metal.00000.wav']
    assert (a / 'genres/metal/metal.00000.wav').read_bytes() == (c / 'genres/metal/metal.00000.wav').read_bytes()
    man = json.loads((a / 'synthetic_manifest.json').read_text())
    assert man['params']['seed'] == 4 and man['files'] == ['genres/metal/metal.00000.wav']


def test_scan_reads_the_synthetic_set(tmp_path):
    root = make_synthetic_gtzan(tmp_path, n_per_genre=1, duration=1.0, genres=GTZAN_GENRES)
    df = scan_gtzan(root)
    assert len(df) == 10 and sorted(df.genre) == GTZAN_GENRES
    assert set(df.track_id) == {f'{g}.00000' for g in GTZAN_GENRES}


def test_every_genre_is_valid_audio():
    for g in GTZAN_GENRES:
        y = synthesize_track(g, 11, duration=1.5)
        assert y.dtype == np.float32 and y.shape == (33075,)
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0 and y.std() > 0.01
        assert np.array_equal(y, synthesize_track(g, 11, duration=1.5))
