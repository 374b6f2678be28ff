"""End to end for the USC latent models: train each a few steps on generated clips -> codes -> RF/logreg -> save ->
load -> embed a clip (< 90 s on CPU); plus the WaveNet causality and the KL sign."""
import json
import numpy as np, pandas as pd, pytest
from genre_nbs.data import scan_gtzan
from genre_nbs.synthetic import make_synthetic_gtzan, synthesize_track
import genre_nbs.evaluation  # noqa: F401 -- importing it declares every model
from genre_nbs.families import load_model_dir
from genre_nbs.data import ModelFileError
from genre_nbs.seq2seq import (LATENT_MODELS, LATENT_INPUTS, run_latent_experiment, embed_clip, latent_codes, prepare, wavenet,
                               receptive_field, kl_divergence, shift_right)

GENRES = ['classical', 'metal']
TINY = {  # (preset overrides, latent_dim, model kwargs): a few seconds each
    'seq2seq_gru':  (dict(win_s=0.1), 8, {}),
    'seq2seq_lstm': (dict(win_s=0.2, n_mels=16), 16, {}),
    'beta_vae':     (dict(win_s=0.2, n_mels=16), 8, dict(filters=(4, 8))),
    'wavenet':      (dict(win_s=0.128, n_mels=16), 16, dict(stacks=1, layers_per_stack=4, channels=8)),
}

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp('s2s')
    root = make_synthetic_gtzan(d / 'syn', n_per_genre=4, duration=3.0, genres=GENRES)
    tracks = scan_gtzan(root)
    split = pd.Series(np.tile(['train', 'train', 'valid', 'test'], len(tracks) // 4), index=tracks.index)
    return d, tracks, split

@pytest.mark.parametrize('name', LATENT_MODELS)
def test_train_save_load_embed(data, name):
    d, tracks, split = data
    over, dim, kw = TINY[name]
    res = run_latent_experiment(name, tracks, split, d / 'run', epochs=1, n_per_track=2, latent_dim=dim, batch_size=4,
                                preset=over, cache_dir=False, tsne=name == 'beta_vae', **kw)
    assert res['code_dim'] == dim and res['n_windows'] == {'train': 8, 'valid': 4, 'test': 4}
    for k in ('rf_train', 'rf_test', 'logreg_train', 'logreg_test'): assert 0 <= res[k] <= 1
    assert all(0 < v < 5 for v in res['recon'].values())       # standardised scale: ~1 before training
    assert res['wall_s'] > 0 and (d / 'run' / f'{name}_tsne.png').exists() == (name == 'beta_vae')
    assert json.loads((d / 'run' / f'{name}_metrics.json').read_text())['model'] == name
    model, cfg = load_model_dir(res['model_dir'])
    assert cfg['model'] == name and cfg['genres'] == GENRES and cfg['input']['win_s'] == over['win_s']
    y = synthesize_track('metal', seed=5, duration=1.0)
    e = embed_clip(model, cfg, y, 22050)
    assert e.shape == (dim,) and np.isfinite(e).all()
    model2, _ = load_model_dir(res['model_dir'])                 # loading twice: identical embeddings
    np.testing.assert_allclose(embed_clip(model2, cfg, y, 22050), e, atol=1e-5)
    with pytest.raises(ValueError, match='1-D'): embed_clip(model, cfg, np.zeros((2, 100)), 22050)

def test_bad_args(data, tmp_path):
    _, tracks, split = data
    with pytest.raises(ValueError, match='must be one of'): run_latent_experiment('vq_vae', tracks, split, tmp_path)
    with pytest.raises(ModelFileError): load_model_dir(tmp_path / 'nothing')

def test_wavenet_causal():
    wn = wavenet(n_samples=128, n_mels=4, hop=32, stacks=1, layers_per_stack=3, channels=4, skip_channels=8)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (2, 128)).astype(np.int32); c = rng.normal(size=(2, 4, 4)).astype(np.float32)
    for t in (0, 50, 127):
        x2 = x.copy(); x2[:, t] = 255 - x2[:, t]
        a, b = np.asarray(wn([x, c])), np.asarray(wn([x2, c]))
        np.testing.assert_allclose(a[:, :t], b[:, :t], atol=1e-6)
        assert np.abs(a[:, t] - b[:, t]).max() > 0
    assert receptive_field(1, 3) == 8

def test_kl_nonnegative_and_shift():
    rng = np.random.default_rng(0)
    kl = np.asarray(kl_divergence(rng.normal(0, 2, (500, 20)).astype(np.float32), rng.normal(0, 2, (500, 20)).astype(np.float32)))
    assert (kl >= 0).all()
    Y = rng.normal(size=(3, 6, 2))
    np.testing.assert_array_equal(shift_right(Y)[:, 1:], Y[:, :-1]); assert (shift_right(Y)[:, 0] == 0).all()
