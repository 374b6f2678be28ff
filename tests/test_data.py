"""End-to-end checks of genre_nbs.data: scan -> load -> segment -> split, on generated GTZAN-layout and FMA-format
fixtures, on the real GTZAN sample clips and the real published split files (skipped when ../shared/data is absent)."""
import os, warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

import genre_nbs.data as D
from genre_nbs.data import (AudioLoadError, DatasetError, DSAE_GENRES, GTZAN_GENRES, Segments, load_audio, scan_gtzan,
                            scan_fma, read_split_dir, split_tracks, leaky_split, make_segments, fma_path, dsae_chunks)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('GENRE_NBS_SHARED') or ROOT.parent/'shared'/'data')
SAMPLE, SPLITS = SHARED/'gtzan-sample', SHARED/'gtzan-splits'
HAS_MP3 = 'MP3' in sf.available_formats()
needs_sample = pytest.mark.skipif(not SAMPLE.is_dir(), reason=f'real GTZAN sample not found at {SAMPLE}')
needs_splits = pytest.mark.skipif(not (SAMPLE.is_dir() and SPLITS.is_dir()), reason=f'real split files / sample not found under {SHARED}')
SR = 22050


def tone(sec, sr, f0, ch=1, seed=0):
    t = np.arange(int(round(sec*sr)))/sr
    y = 0.4*np.sin(2*np.pi*f0*t) + 0.05*np.random.default_rng(seed).standard_normal(len(t))
    return (np.stack([y*(1 - 0.3*c) for c in range(ch)], 1) if ch > 1 else y).astype(np.float32)


def no_leak(seg: Segments, side_per_segment):
    "Every track's segments lie on exactly one side."
    s = pd.DataFrame(dict(track=seg.track, side=side_per_segment))
    return bool((s.groupby('track').side.nunique() == 1).all())


# ---------------------------------------------------------------- (a) generated GTZAN set, both layouts in one root
@pytest.fixture(scope='module')
def gtzan(tmp_path_factory):
    root = tmp_path_factory.mktemp('gtzan')
    for gi, g in enumerate(['classical', 'metal', 'pop']):              # original layout, .au and .wav at 22050 mono
        (root/'genres'/g).mkdir(parents=True)
        for i in range(4):
            ext, fmt = ('au', 'AU') if i % 2 == 0 else ('wav', 'WAV')
            sf.write(root/'genres'/g/f'{g}.{i:05d}.{ext}', tone(3.0, SR, 150*(gi+1) + 10*i, seed=i), SR, format=fmt)
    k = root/'Data'/'genres_original'                                      # Kaggle layout: 44.1 kHz stereo + mp3
    for gi, g in enumerate(['jazz', 'blues']):
        (k/g).mkdir(parents=True)
        for i in range(3):
            sf.write(k/g/f'{g}.{i:05d}.wav', tone(3.0, 44100, 500 + 90*gi + 7*i, ch=2, seed=i), 44100, subtype='PCM_24')
        if HAS_MP3: sf.write(k/g/f'{g}.00003.mp3', tone(3.0, 44100, 520 + 90*gi, ch=2), 44100, format='MP3')
        else: sf.write(k/g/f'{g}.00003.flac', tone(3.0, 44100, 520 + 90*gi, ch=2), 44100, format='FLAC')
    (k/'jazz'/'jazz.00054.wav').write_bytes(np.random.default_rng(0).bytes(20000))      # corrupt, like the real one
    (k/'blues'/'blues.00009.wav').write_bytes(b'RIFF\x24\x00\x00\x00WAVEfmt ')            # truncated header
    (k.parent/'features_30_sec.csv').write_text('filename,label\n')                      # Kaggle extras are ignored
    (k.parent/'images_original'/'jazz').mkdir(parents=True)
    (k.parent/'images_original'/'jazz'/'jazz00000.png').write_bytes(b'\x89PNG')
    return root


def test_scan_finds_both_layouts_and_skips_corrupt(gtzan):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); df = scan_gtzan(gtzan)
    warnings.simplefilter('ignore')  # pytest restores the filters after the test
    assert list(df.columns[:3]) == ['path', 'genre', 'track_id']
    assert df.genre.value_counts().to_dict() == {'blues': 4, 'classical': 4, 'jazz': 4, 'metal': 4, 'pop': 4}
    assert isinstance(df.index, pd.RangeIndex) and df.equals(df.sort_values(['genre', 'track_id']).reset_index(drop=True))
    assert df.track_id.iloc[0] == 'blues.00000' and 'jazz.00054' not in set(df.track_id)
    skipped = sorted(Path(p).name for p, _ in df.attrs['skipped'])
    assert skipped == ['blues.00009.wav', 'jazz.00054.wav']
    msgs = ' '.join(str(x.message) for x in w)
    assert 'jazz.00054.wav' in msgs and 'blues.00009.wav' in msgs
    assert scan_gtzan(gtzan, genres=DSAE_GENRES[1:]).genre.unique().tolist() == ['jazz', 'metal', 'pop']
    # root may also point at the folder that holds the genre folders
    assert len(scan_gtzan(gtzan/'Data'/'genres_original')) == 8 and len(scan_gtzan(gtzan/'Data')) == 8


def test_scan_errors(gtzan, tmp_path):
    with pytest.raises(DatasetError, match="valid genres: \\['blues', 'classical'"):
        scan_gtzan(gtzan, genres=['jazz', 'country'])
    with pytest.raises(DatasetError, match='does not exist'): scan_gtzan(tmp_path/'nope')
    with pytest.raises(DatasetError, match='Data/genres_original'): scan_gtzan(tmp_path)


def test_every_scanned_track_loads_mono_22050(gtzan):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); df = scan_gtzan(gtzan)
    for p in df.path:
        y = load_audio(p)
        assert y.dtype == np.float32 and y.ndim == 1 and abs(len(y) - 3*SR) <= 2, p
        assert 0.2 < np.abs(y).max() < 0.9 and np.isfinite(y).all(), p


def test_bad_files_raise_one_error_type(gtzan, tmp_path):
    for p, reason in [(gtzan/'Data'/'genres_original'/'jazz'/'jazz.00054.wav', 'not decodable'),
                      (tmp_path/'missing.wav', 'file does not exist')]:
        with pytest.raises(AudioLoadError, match=reason) as e: load_audio(p)
        assert e.value.path == str(p) and str(p) in str(e.value)
    good = gtzan/'genres'/'metal'/'metal.00001.wav'
    cut = tmp_path/'cut.wav'; cut.write_bytes(good.read_bytes()[:len(good.read_bytes())//2])   # truncated data
    assert 0 < len(load_audio(cut)) < 3*SR                                                       # reads what is there
    (tmp_path/'header.wav').write_bytes(good.read_bytes()[:30])                                  # truncated header
    with pytest.raises(AudioLoadError, match='header.wav'): load_audio(tmp_path/'header.wav')


@pytest.mark.parametrize('kind,kw,per_track', [('fixed', dict(win_s=1.0, hop_s=0.5), 5),
                                               ('random', dict(win_s=2.0, n_random=3), 3),
                                               ('dsae', dict(pad=True), 20)])
def test_end_to_end_split_by_track_never_leaks(gtzan, tmp_path, kind, kw, per_track):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); tracks = scan_gtzan(gtzan)
    seg = make_segments(tracks, kind, cache_dir=tmp_path, progress=False, **kw)
    assert len(seg) == per_track*len(tracks) and seg.X.dtype == np.float32
    assert seg.genres == sorted(tracks.genre.unique())
    assert (np.array(seg.genres)[seg.y] == tracks.genre.to_numpy()[seg.track]).all()   # labels follow the tracks
    for seed in (0, 1):
        split = split_tracks(tracks, valid=0.25, test=0.25, seed=seed)
        assert set(split) == {'train', 'valid', 'test'}
        assert (pd.crosstab(tracks.genre, split) >= 1).all().all()                       # stratified
        side = split.to_numpy()[seg.track]
        assert no_leak(seg, side)
        parts = seg.sides(split)
        assert sum(len(p) for p in parts.values()) == len(seg)
        tr, te = set(parts['train'].track), set(parts['test'].track)
        assert not tr & te and not tr & set(parts['valid'].track)


def test_leaky_split_mixes_tracks(gtzan):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); tracks = scan_gtzan(gtzan, genres=['classical', 'metal'])
    seg = make_segments(tracks, 'fixed', win_s=0.5, cache_dir=False, progress=False)
    side = leaky_split(len(seg), seed=0)
    assert not no_leak(seg, side)                      # that is its point: one song's windows on several sides
    by_track = pd.DataFrame(dict(t=seg.track, s=side)).groupby('t').s.agg(set)
    assert any({'train', 'test'} <= s for s in by_track)
    with pytest.raises(ValueError, match='leaky_split'): split_tracks(tracks, protocol='leaky')


def test_segment_cache_reused_and_invalidated(gtzan, tmp_path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); tracks = scan_gtzan(gtzan, genres=['pop'])
    a = make_segments(tracks, 'random', win_s=1.0, n_random=2, seed=5, cache_dir=tmp_path, progress=False)
    def boom(*args, **kw): raise AssertionError('audio was read again: cache not used')
    monkeypatch.setattr(D, 'load_audio', boom)
    b = make_segments(tracks, 'random', win_s=1.0, n_random=2, seed=5, cache_dir=tmp_path, progress=False)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.track, b.track) and a.genres == b.genres
    for change in (dict(seed=6), dict(n_random=3), dict(win_s=0.5), dict(sr=16000)):
        with pytest.raises(AssertionError, match='cache not used'):
            make_segments(tracks, 'random', **{**dict(win_s=1.0, n_random=2, seed=5), **change}, cache_dir=tmp_path, progress=False)
    monkeypatch.undo()
    p = Path(tracks.path[0]); sf.write(p, tone(3.0, SR, 999), SR, format='AU')            # the audio changed on disk
    c = make_segments(tracks, 'random', win_s=1.0, n_random=2, seed=5, cache_dir=tmp_path, progress=False)
    assert not np.array_equal(a.X[:2], c.X[:2]) and np.array_equal(a.X[2:], c.X[2:])
    for f in tmp_path.glob('*.npys'): f.write_bytes(b'garbage')                            # corrupt cache: recomputed
    with pytest.warns(UserWarning, match='unreadable'):
        d = make_segments(tracks, 'random', win_s=1.0, n_random=2, seed=5, cache_dir=tmp_path, progress=False)
    assert np.array_equal(c.X, d.X)


def test_unreadable_track_in_table_is_skipped_by_make_segments(gtzan):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); tracks = scan_gtzan(gtzan, genres=['jazz'])
    bad = str(gtzan/'Data'/'genres_original'/'jazz'/'jazz.00054.wav')
    t2 = pd.concat([tracks, pd.DataFrame([dict(path=bad, genre='jazz', track_id='jazz.00054')])], ignore_index=True)
    with pytest.warns(UserWarning, match='jazz.00054.wav'):
        seg = make_segments(t2, 'fixed', win_s=1.0, cache_dir=False, progress=False)
    assert [p for p, _ in seg.skipped] == [bad] and len(seg) == 3*len(tracks) and 4 not in set(seg.track)


def test_synthetic_set_end_to_end(tmp_path):
    from genre_nbs.synthetic import make_synthetic_gtzan
    root = make_synthetic_gtzan(tmp_path/'synthetic', n_per_genre=3, duration=2.0, seed=0, genres=DSAE_GENRES, n_jobs=1)
    tracks = scan_gtzan(root, genres=DSAE_GENRES)
    assert len(tracks) == 12 and not tracks.attrs['skipped'] and tracks.genre.unique().tolist() == DSAE_GENRES
    seg = make_segments(tracks, 'fixed', win_s=1.0, cache_dir=tmp_path/'cache', progress=False)
    assert len(seg) == 2*12 and np.isfinite(seg.X).all()
    split = split_tracks(tracks, valid=0.34, test=0.34, seed=0)
    assert no_leak(seg, split.to_numpy()[seg.track]) and set(split) == {'train', 'valid', 'test'}


# ---------------------------------------------------------------- (b) FMA-format fixture
@pytest.fixture(scope='module')
def fma(tmp_path_factory):
    root = tmp_path_factory.mktemp('fma')
    genres = ['Electronic', 'Folk', 'Hip-Hop', 'Rock']
    ids = [2, 3, 5, 10, 134, 140, 141, 148, 1482, 1483, 2010, 2011, 10250, 20000, 30000, 99134]
    cols = pd.MultiIndex.from_tuples([('album', 'id'), ('artist', 'id'), ('artist', 'name'), ('set', 'split'),
                                      ('set', 'subset'), ('track', 'genre_top'), ('track', 'title')])
    rows = []
    for k, i in enumerate(ids):
        split = 'test' if k % 4 == 3 else 'validation' if k % 4 == 2 else 'training'
        rows.append([k, k // 2, f'Artist {k//2}', split, 'medium' if i == 20000 else 'small',
                     np.nan if i == 30000 else genres[k % 4], f'title, with comma {k}'])
    meta = pd.DataFrame(rows, index=pd.Index(ids, name='track_id'), columns=cols)
    (root/'fma_metadata').mkdir()
    meta.to_csv(root/'fma_metadata'/'tracks.csv')
    for k, i in enumerate(ids):
        p = fma_path(root, i, 'small'); p.parent.mkdir(parents=True, exist_ok=True)
        if i == 99134: p.write_bytes(b'ID3' + bytes(200)); continue                   # a broken mp3, as in real FMA
        if HAS_MP3: sf.write(p, tone(2.5, 44100, 200 + 40*k, ch=2, seed=k), 44100, format='MP3')
    return root


@pytest.mark.skipif(not HAS_MP3, reason='libsndfile here cannot write MP3 (needs libsndfile >= 1.1)')
def test_fma_fixture_end_to_end(fma, tmp_path):
    head = (fma/'fma_metadata'/'tracks.csv').read_text().splitlines()[:3]   # the real file's header shape
    assert head[0].startswith(',album,') and head[1].startswith(',id,') and head[2].startswith('track_id,')
    with pytest.warns(UserWarning, match='099134.mp3'):
        tracks = scan_fma(fma)
    assert list(tracks.columns) == ['path', 'genre', 'track_id', 'artist', 'split']
    assert len(tracks) == 13 and '020000' not in set(tracks.track_id) and '030000' not in set(tracks.track_id)
    assert tracks.path[tracks.track_id == '000002'].item().endswith('fma_small/000/000002.mp3')
    assert set(tracks.split) == {'train', 'valid', 'test'}
    assert tracks.genre.tolist() == sorted(tracks.genre)
    seg = make_segments(tracks, 'fixed', win_s=1.0, cache_dir=tmp_path, progress=False)
    assert len(seg) == 2*13 and seg.genres == ['Electronic', 'Folk', 'Hip-Hop', 'Rock']
    off = split_tracks(tracks, 'official')
    assert off.tolist() == tracks.split.tolist() and no_leak(seg, off.to_numpy()[seg.track])
    grp = split_tracks(tracks, 'group', group_col='artist', valid=0.2, test=0.2, seed=1)
    assert (tracks.assign(s=grp).groupby('artist').s.nunique() == 1).all()           # no artist on two sides
    assert no_leak(seg, grp.to_numpy()[seg.track]) and set(grp) == {'train', 'valid', 'test'}
    with pytest.warns(UserWarning, match='099134.mp3'): rock = scan_fma(fma, genres=['Rock'])
    assert set(rock.genre) == {'Rock'}
    with pytest.raises(DatasetError, match="valid genres"): scan_fma(fma, genres=['Polka'])


def test_fma_bad_metadata(fma, tmp_path):
    (tmp_path/'fma_metadata').mkdir(); (tmp_path/'fma_small').mkdir()
    meta = pd.read_csv(fma/'fma_metadata'/'tracks.csv', index_col=0, header=[0, 1])
    meta.drop(columns=[('track', 'genre_top'), ('artist', 'name')]).to_csv(tmp_path/'fma_metadata'/'tracks.csv')
    with pytest.raises(DatasetError, match=r"\('track', 'genre_top'\).*\('artist', 'name'\)|\('artist', 'name'\).*\('track', 'genre_top'\)"):
        scan_fma(tmp_path)
    with pytest.raises(DatasetError, match='fma_large'): scan_fma(fma, subset='large')
    with pytest.raises(DatasetError, match='tracks.csv'): scan_fma(tmp_path/'fma_small')


# ---------------------------------------------------------------- (c) real GTZAN sample clips
@pytest.fixture(scope='module')
def sample():
    return scan_gtzan(SAMPLE)


@needs_sample
def test_real_sample_scan_load_segment_split(sample, tmp_path):
    assert len(sample) == 50 and sorted(sample.genre.unique()) == GTZAN_GENRES and not sample.attrs['skipped']
    y = load_audio(sample.path[0])
    assert y.dtype == np.float32 and 29*SR < len(y) < 31*SR and 0.01 < np.abs(y).max() <= 1
    tracks = scan_gtzan(SAMPLE, genres=DSAE_GENRES)
    seg = make_segments(tracks, 'dsae', cache_dir=tmp_path, progress=False)           # 30 s clips: no padding needed
    assert seg.X.shape == (20*20, 500) and np.isfinite(seg.X).all()
    np.testing.assert_allclose(seg.X[:20], dsae_chunks(load_audio(tracks.path[0])), atol=1e-6)
    split = split_tracks(tracks, valid=0.2, test=0.2, seed=0)
    assert (pd.crosstab(tracks.genre, split) == 1).loc[:, ['test', 'valid']].all().all()  # 5 clips: 1 test, 1 valid
    assert no_leak(seg, split.to_numpy()[seg.track])
    rnd = make_segments(sample, 'random', win_s=2.0, n_random=2, cache_dir=False, progress=False)
    assert rnd.X.shape == (100, 44100)
    assert not no_leak(rnd, leaky_split(len(rnd), seed=0))


# ---------------------------------------------------------------- (d) real split files against the real sample
@needs_splits
def test_real_kereliuk_files():
    ker = SPLITS/'kereliuk-filtered'
    f = read_split_dir(ker)
    assert f.split.value_counts().to_dict() == {'train': 443, 'test': 290, 'valid': 197}
    assert f.track_id.str.fullmatch(r'[a-z]+\.\d{5}').all() and set(f.genre) == set(GTZAN_GENRES)
    s = read_split_dir(ker, kind='stratified')
    assert s.split.value_counts().to_dict() == {'train': 500, 'valid': 250, 'test': 250}


@needs_splits
def test_real_sturm_files():
    s = read_split_dir(SPLITS/'sturm-3fold')
    assert list(s.columns) == ['track_id', 'genre', 'fold', 'group']
    assert s.fold.value_counts().sort_index().tolist() == [315, 316, 317] and s.track_id.is_unique
    assert (s.group >= 0).all()
    # an artist group never spans two folds
    assert (s.groupby('group').fold.nunique() == 1).all()


@needs_splits
def test_real_split_files_against_sample(sample):
    ker = SPLITS/'kereliuk-filtered'
    with pytest.raises(DatasetError, match="missing='warn'"): split_tracks(sample, 'files', split_dir=ker)
    with pytest.warns(UserWarning, match='not in the scanned tracks'):
        side = split_tracks(sample, 'files', split_dir=ker, missing='warn')
    ref = read_split_dir(ker).set_index('track_id').split
    for t, s in zip(sample.track_id, side):
        assert s == ref.get(t, 'unused'), t
    assert {'train', 'valid', 'test'} <= set(side)
    sub = sample[sample.genre.isin(DSAE_GENRES)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); side4 = split_tracks(sub, 'files', split_dir=ker, missing='ignore')
    seg = make_segments(sub, 'fixed', win_s=3.0, hop_s=3.0, cache_dir=False, progress=False)
    used = side4.to_numpy()[seg.track]
    assert no_leak(seg, used) and set(side4) <= {'train', 'valid', 'test', 'unused'}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore'); st = split_tracks(sample, 'files', split_dir=SPLITS/'sturm-3fold', fold=2, missing='warn')
    folds = read_split_dir(SPLITS/'sturm-3fold').set_index('track_id')
    for t, s in zip(sample.track_id, st):
        if t not in folds.index: assert s == 'unused'
        elif folds.fold[t] == 2: assert s == 'test'
        else: assert s in ('train', 'valid')
