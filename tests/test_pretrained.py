"""The pretrained musicnn port (05a_pretrained): exact against musicnn's original TensorFlow 1 graph on real and
generated audio, and usable from the command line (`tag`, `embed --model musicnn`, `train --model musicnn`) with
nothing but its own output on stderr. Skipped, with the reason, where musicnn's weights are not installed
(`make` installs them: pip install --no-deps musicnn==0.1.0)."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = pytest.mark.skipif(importlib.util.find_spec('musicnn') is None,
                                reason="musicnn's weights are not installed: pip install --no-deps musicnn==0.1.0")
BIN = Path(sys.executable).parent
SHARED = Path(__file__).resolve().parents[2]/'shared'/'data'/'gtzan-sample'/'genres'


def _signals():
    "Generated audio (noise, silence, a loud clipped sweep, a synthetic track) and real clips where present."
    import librosa
    from genre_nbs.synthetic import synthesize_track
    rng = np.random.default_rng(1)
    out = {'noise': 0.1 * rng.standard_normal(22050 * 7), 'silence': np.zeros(22050 * 4),
           'clipped sweep': np.clip(8 * librosa.chirp(fmin=30, fmax=8000, sr=22050, duration=7.0), -1, 1),
           'synthetic jazz': synthesize_track('jazz', seed=3, duration=7.0)}
    if SHARED.is_dir():
        from genre_nbs.data import load_audio
        out.update({p.stem: load_audio(p) for p in sorted(SHARED.glob('*/*.00001.wav'))[::3]})
    return {k: np.asarray(v, np.float32) for k, v in out.items()}


@pytest.mark.parametrize('model', ['MSD_musicnn', 'MTT_musicnn'])
def test_port_matches_the_original_graph(model):
    import keras
    from musicnn_reference import ReferenceModel
    from genre_nbs.pretrained import load_musicnn, musicnn_input, PORT_ATOL
    ref = ReferenceModel(model)
    worst = {}
    for name, y in _signals().items():
        x = musicnn_input(y, 22050)
        want = ref(x)
        for fused in (False, True):
            out = load_musicnn(model, fused)(x, training=False)
            for k, tol in PORT_ATOL.items():
                d = float(np.abs(keras.ops.convert_to_numpy(out[k]) - want[k]).max())
                worst[k] = max(worst.get(k, 0.), d)
                assert d <= tol, (model, fused, name, k, d)
    print(f"{model}: max |port - original| {worst}")


def test_vgg_matches_the_original_graph():
    import keras
    from musicnn_reference import ReferenceModel
    from genre_nbs.pretrained import load_musicnn, musicnn_input, PORT_ATOL
    x = np.concatenate([musicnn_input(y, 22050) for y in list(_signals().values())[:3]])
    for model in ('MSD_vgg', 'MTT_vgg'):
        d = np.abs(keras.ops.convert_to_numpy(load_musicnn(model)(x, training=False)['taggram']) - ReferenceModel(model)(x)['taggram'])
        assert d.max() <= PORT_ATOL['taggram'], (model, d.max())


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    from genre_nbs.synthetic import make_synthetic_gtzan
    d = tmp_path_factory.mktemp('musicnn')
    root = make_synthetic_gtzan(d/'synth', n_per_genre=4, duration=8.0, genres=['classical', 'metal'])
    (d/'junk.wav').write_bytes(b'not audio at all')
    return d, root


def _cli(*args, cwd):
    env = dict(os.environ, GENRE_NBS_DATA=str(cwd/'data'), MPLBACKEND='Agg')
    env.pop('TF_CPP_MIN_LOG_LEVEL', None)  # the command must quiet TensorFlow itself
    r = subprocess.run([str(BIN/'genre-nbs'), *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    return r.returncode, r.stdout, r.stderr


def test_tag_json_and_bad_files(files):
    d, root = files
    clip = root/'genres'/'metal'/'metal.00000.wav'
    rc, out, err = _cli('tag', clip, d/'junk.wav', '--json', '--top', '3', '--quiet', cwd=d)
    assert rc == 1 and 'junk.wav' in err, err  # one file could not be read: exit 1, the other tagged
    res = json.loads(out)
    assert [Path(p['file']).name for p in res['predictions']] == ['metal.00000.wav']
    tags = res['predictions'][0]['tags']
    assert len(tags) == 3 and list(tags.values()) == sorted(tags.values(), reverse=True) and all(0 <= v <= 1 for v in tags.values())
    assert [Path(e['file']).name for e in res['errors']] == ['junk.wav']
    assert err.strip().splitlines() == [f"genre-nbs: skipped '{d/'junk.wav'}': {res['errors'][0]['error']}"]


def test_commands_print_only_their_own_output(files):
    "No TensorFlow start-up lines on stderr: the table on stdout, nothing else."
    d, root = files
    rc, out, err = _cli('tag', root/'genres'/'classical', '--model', 'mtt', '--quiet', cwd=d)
    assert rc == 0 and err == '', err
    assert out.splitlines()[0].split() == ['file', 'tags'] and len(out.splitlines()) == 5


def test_embed_pretrained_and_train_classify(files):
    d, root = files
    rc, out, err = _cli('embed', '--model', 'musicnn', root, '--out', d/'emb.npz', '--quiet', cwd=d)
    assert rc == 0 and err == '', err
    z = np.load(d/'emb.npz')
    assert z['embeddings'].shape == (8, 200) and str(z['model']) == 'musicnn penultimate'
    rc, out, err = _cli('embed', '--model', 'musicnn_mtt', '--layer', 'pooled', root/'genres'/'metal', '--out', d/'p.npz', '--quiet', cwd=d)
    assert rc == 0 and np.load(d/'p.npz')['embeddings'].shape == (4, 1506), err
    rc, out, err = _cli('train', '--model', 'musicnn', '--data', root, '--out', d/'m', '--quiet', cwd=d)
    assert rc == 0 and err == '', err
    cfg = json.loads((d/'m'/'config.json').read_text())
    assert cfg['model'] == 'musicnn' and cfg['input']['tagger'] == 'MSD_musicnn' and cfg['C'] in (0.01, 0.1, 1.0)
    rc, out, err = _cli('classify', '--model', d/'m', root/'genres'/'metal'/'metal.00001.wav', '--json', '--quiet', cwd=d)
    assert rc == 0 and err == '', err
    assert set(json.loads(out)['predictions'][0]['probabilities']) == {'classical', 'metal'}
    rc, out, err = _cli('embed', '--model', d/'m', root/'genres'/'metal', '--out', d/'m.npz', '--quiet', cwd=d)
    assert rc == 0 and np.load(d/'m.npz')['embeddings'].shape == (4, 200), err


def test_missing_weights_are_one_clear_error(files, monkeypatch):
    "Without the wheel every musicnn function raises MusicnnNotInstalled naming the install command; the CLI prints one line."
    import genre_nbs.pretrained as P
    from genre_nbs.cli import main
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(P.MusicnnNotInstalled, match='pip install --no-deps musicnn==0.1.0'): P.read_checkpoint()
    d, root = files
    assert main(['tag', str(root), '--quiet']) == 2
