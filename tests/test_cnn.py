"End to end: train a tiny CNN on generated clips -> save -> load -> classify a generated clip (< 60 s on CPU)."
import numpy as np, pandas as pd, pytest
from genre_nbs.data import scan_gtzan
from genre_nbs.synthetic import make_synthetic_gtzan, synthesize_track
from genre_nbs.cnn import run_cnn_experiment, load_classifier, classify_audio, predict_tracks
from genre_nbs.data import ModelFileError

GENRES = ['classical', 'metal']

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp('cnn')
    root = make_synthetic_gtzan(d / 'syn', n_per_genre=3, duration=5.0, genres=GENRES)
    tracks = scan_gtzan(root)
    split = pd.Series(np.tile(['train', 'train', 'valid'], len(tracks) // 3), index=tracks.index)
    res = run_cnn_experiment(tracks, split, d / 'run', arch='huang_gap', epochs=3, n_random=4, batch_size=16,
                             model_kw={'width': 16})
    return res, tracks

def test_artifacts(trained):
    res, _ = trained
    assert res['genres'] == GENRES and res['eval_split'] == 'valid'
    assert all(p.exists() for p in res['figures'].values())
    assert (res['model_dir'] / 'model.keras').exists() and (res['model_dir'] / 'config.json').exists()

def test_load_classify_generated_clip(trained):
    res, tracks = trained
    clf = load_classifier(res['model_dir'])
    assert clf.genres == GENRES and clf.config['input']['kind'] == 'logmel'
    y = synthesize_track('metal', seed=123, duration=4.0)
    probs = classify_audio(clf, y, 22050)
    assert list(probs) == GENRES
    assert abs(sum(probs.values()) - 1) < 1e-5 and all(0 <= v <= 1 for v in probs.values())
    # loading twice gives the same answer; paths and waveforms agree
    assert classify_audio(load_classifier(res['model_dir']), y, 22050) == pytest.approx(probs, abs=1e-6)
    p = predict_tracks(clf, list(tracks['path'][:2]))
    assert p.shape == (2, 2)

def test_bad_inputs(trained, tmp_path):
    res, _ = trained
    clf = load_classifier(res['model_dir'])
    with pytest.raises(ValueError, match='shorter than one'):
        classify_audio(clf, np.zeros(1000, np.float32), 22050)
    with pytest.raises(ValueError, match='mono'):
        classify_audio(clf, np.zeros((2, 50000), np.float32), 22050)
    (tmp_path / 'config.json').write_text('{not json')
    with pytest.raises(ModelFileError):
        load_classifier(tmp_path)
