"""One experiment: under every protocol the tests can build, every row of the report is scored on exactly the report's
test tracks (restricted to the row's genres: the DSAE's four) and trained only on its training tracks; results.json
records the split once and each row's tracks; `--protocol leaky` is the only way to a leaky row."""
import pytest

import genre_nbs.evaluation as E
from genre_nbs.data import DSAE_GENRES
from genre_nbs.synthetic import make_synthetic_gtzan

GENRES = DSAE_GENRES + ['rock']  # the DSAE rows use four of the five genres


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    "Clips long enough for the DSAE input (27.2 s), 5 per genre: 3 / 1 / 1 tracks per genre on each side."
    return make_synthetic_gtzan(tmp_path_factory.mktemp('synth'), seed=0, n_per_genre=5, duration=28.0, genres=GENRES)


def run(data, tmp_path, protocol, families, **kw):
    return E.run_experiment(data, protocol=protocol, preset='tiny', out=tmp_path/protocol, models=families, progress=False,
                            cache_dir=tmp_path/'cache', **kw)


def check_one_split(res, leaky_expected=()):
    "Every scored row: its test tracks are the report's (of its genres), its training tracks the report's training ones."
    split = res['split']
    assert split and set(split.values()) <= {'train', 'valid', 'test'}
    rows = [r for r in res['rows'] if r.get('status') == 'ok']
    assert rows and len(rows) == len(res['rows']), [r.get('error') for r in res['rows']]
    leaky = []
    for r in rows:
        genres = DSAE_GENRES if r.get('genres_used') == 'DSAE 4 genres' else GENRES
        if r['protocol'] == 'leaky': leaky.append(r['model']); continue
        want = sorted(t for t, s in split.items() if s == 'test' and t.split('.')[0] in genres)
        assert r['test_tracks'] == want, (r['model'], r['input'], r['test_tracks'], want)
        assert r['n_test_tracks'] == len(want), (r['model'], r['input'])
        assert all(split[t] == 'valid' for t in r['valid_tracks']), (r['model'], r['input'])
        trained = {split[t] for t in r['train_tracks']}  # heads chosen on validation may be refit on train + valid
        assert 'train' in trained and trained <= ({'train', 'valid'} if 'refit' in (r.get('note') or '') else {'train'}), \
            (r['model'], r['input'], trained)
    assert sorted(leaky) == sorted(leaky_expected), leaky
    return rows


def test_track_protocol_every_family(synth, tmp_path):
    "The whole report (every family on the tiny preset): one split, and no leaky row without --protocol leaky."
    res = run(synth, tmp_path, 'track', None)
    rows = check_one_split(res)
    from genre_nbs.families import report_inputs
    with_rows = {f for f in E.FAMILIES if f != 'figures' and (f not in E.MODELS or report_inputs(f, E.PRESETS['tiny']))}
    assert {r['family'] for r in rows} >= with_rows, with_rows - {r['family'] for r in rows}
    assert not any('leaky' in (r.get('note') or '') for r in rows)


def test_leaky_protocol_makes_the_dsae_rows_leaky(synth, tmp_path):
    "--protocol leaky: the DSAE family's rows (and only they) use the paper's segment split, and say so."
    res = run(synth, tmp_path, 'leaky', ['rf', 'dsae'])
    rows = check_one_split(res, leaky_expected=('two_layer_nn', 'dsae', 'ae_probe'))
    for r in rows:
        if r['protocol'] == 'leaky':
            assert 'leaky' in r['note'] and set(r['test_tracks']) & set(r['train_tracks'])  # the leak, made visible
        else: assert r['family'] == 'rf' and r['protocol'] == 'track'
    assert res['config']['protocol'] == 'leaky'


def test_group_protocol_keeps_artists_on_one_side(synth, tmp_path, monkeypatch):
    "--protocol group with an artist per pair of tracks: the DSAE rows no longer fall back to a random track split."
    load = E.load_tracks
    def with_artists(*a, **kw):
        tracks, desc = load(*a, **kw)
        return tracks.assign(artist=[f'{g}-{i // 2}' for g, i in zip(tracks.genre, tracks.groupby('genre').cumcount())]), desc
    monkeypatch.setattr(E, 'load_tracks', with_artists)
    res = run(synth, tmp_path, 'group', ['rf', 'dsae'], seed=3)  # a seed whose artist split trains on every genre
    check_one_split(res)
    artist = {t: f"{t.split('.')[0]}-{int(t.split('.')[1]) // 2}" for t in res['split']}
    sides = {}
    for t, s in res['split'].items(): sides.setdefault(artist[t], set()).add(s)
    assert all(len(s) == 1 for s in sides.values()), sides


def test_files_protocol_uses_the_published_split(synth, tmp_path):
    "--protocol files: the split files decide every row's sides, the DSAE rows' too."
    sd = tmp_path/'splits'; sd.mkdir()
    sides = {}
    for g in GENRES:
        for i, s in enumerate(['train', 'train', 'test', 'valid', 'train']):  # another assignment than the random one
            sides.setdefault(s, []).append(f'{g}/{g}.{i:05d}.wav')
    for s, names in sides.items(): (sd/f'{s}_filtered.txt').write_text('\n'.join(names) + '\n')
    res = run(synth, tmp_path, 'files', ['rf', 'dsae'], split_dir=sd)
    check_one_split(res)
    assert sorted(t for t, s in res['split'].items() if s == 'test') == [f'{g}.00002' for g in GENRES]
    # `train` with the same settings trains on the same split
    d = E.train_model('rf', synth, preset='tiny', protocol='files', split_dir=sd, out=tmp_path/'rf', cache_dir=tmp_path/'cache')
    cfg = E.load_predictor(d).config['trained_on']
    assert cfg['protocol'] == 'files' and cfg['test_tracks'] == [f'{g}.00002' for g in GENRES]
