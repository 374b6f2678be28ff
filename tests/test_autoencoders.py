"End to end for the DSAE: generated clips -> DSAE chunks -> train -> model dir -> reload -> same predictions (< 60 s on CPU)."
import json
import numpy as np, pytest
from genre_nbs.data import scan_gtzan, make_segments, dsae_chunks
from genre_nbs.synthetic import make_synthetic_gtzan, synthesize_track
import genre_nbs.evaluation  # noqa: F401 -- importing it declares every model
from genre_nbs.families import load_model_dir
from genre_nbs.data import ModelFileError
from genre_nbs.autoencoders import (build_dsae, fit_dsae, compile_dsae, encode, logits, predict_proba, toy_segments,
                                    reconstruction_mse, run_dsae_experiment, save_dsae)

GENRES = ['classical', 'metal']

@pytest.fixture(scope='module')
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp('dsae')
    root = make_synthetic_gtzan(d / 'syn', n_per_genre=2, duration=28.0, genres=GENRES)  # >= 600000 samples each
    tracks = scan_gtzan(root)
    segs = make_segments(tracks, kind='dsae', cache_dir=False, progress=False)
    res = run_dsae_experiment(tracks, 'leaky', gamma=0.9, epochs=2, batch_size=16, lr=1e-3, segments=segs,
                              out_dir=d / 'run', baseline=False, compile_kw={'run_eagerly': True})
    return res, segs, d / 'run'

def test_segments_and_metrics(run):
    res, segs, out = run
    assert segs.X.shape == (80, 500) and segs.genres == GENRES
    assert res['n_segments'] == {'train': 56, 'valid': 12, 'test': 12}
    m = res['models']['dsae']
    assert 0 <= m['test_acc'] <= 1 and m['test_recon_mse'] > 0
    assert json.loads((out / 'metrics.json').read_text())['genres'] == GENRES
    for f in ('fig3_accuracy.png', 'fig5_codes_pca.png', 'fig6_logits_pca.png', 'confusion_dsae.png', 'table1.csv'):
        assert (out / f).stat().st_size > 0

def test_round_trip_identical_predictions(run):
    res, segs, out = run
    model, cfg = load_model_dir(out / 'dsae')
    assert cfg['model'] == 'dsae' and cfg['genres'] == GENRES and cfg['input']['kind'] == 'dsae'
    X = dsae_chunks(synthesize_track('metal', seed=321, duration=28.0))  # a clip the model never saw
    p = predict_proba(model, X)
    assert p.shape == (20, 2) and np.allclose(p.sum(1), 1, atol=1e-5)
    again, _ = load_model_dir(out / 'dsae')
    np.testing.assert_array_equal(predict_proba(again, X), p)
    np.testing.assert_array_equal(encode(again, X), encode(model, X))
    assert logits(model, X).shape == (20, 2)

def test_training_reduces_loss_and_is_seeded(tmp_path):
    X, y = toy_segments(64)
    hs, ws = [], []
    for _ in range(2):
        m = build_dsae(n_classes=4, lr=1e-3, seed=3, run_eagerly=True)
        hs.append(fit_dsae(m, X, y, epochs=3, batch_size=16, seed=3)); ws.append(m.get_weights())
    assert hs[0]['loss'][-1] < hs[0]['loss'][0]
    assert hs[0] == hs[1] and all(np.array_equal(a, b) for a, b in zip(*ws))
    save_dsae(m, tmp_path / 'm', ['a', 'b', 'c', 'd'], gamma=0.9)
    m2, _ = load_model_dir(tmp_path / 'm')
    np.testing.assert_array_equal(predict_proba(m2, X), predict_proba(m, X))
    assert reconstruction_mse(m2, X) == reconstruction_mse(m, X)
    fit_dsae(compile_dsae(m2, 0.5, run_eagerly=True), X, y, epochs=1, batch_size=32, adapt=False)  # trainable again

def test_bad_inputs(run, tmp_path):
    res, segs, out = run
    model, _ = load_model_dir(out / 'dsae')
    with pytest.raises(ValueError, match='expects 500 values'): predict_proba(model, np.zeros((3, 400)))
    with pytest.raises(ValueError, match='NaN'): encode(model, np.full((3, 500), np.nan))
    with pytest.raises(ValueError, match='compile_dsae'): fit_dsae(model, segs.X, segs.y)
    with pytest.raises(ValueError, match='gamma'): build_dsae(gamma=-0.1)
    (tmp_path / 'bad').mkdir(); (tmp_path / 'bad' / 'config.json').write_text('{}')
    with pytest.raises(ModelFileError): load_model_dir(tmp_path / 'bad')
