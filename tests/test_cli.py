"""End-to-end checks of the `genre-nbs` command line.

`reproduce` runs in-process on a small synthetic set with the hidden `tiny` preset (one or two epochs per model, made
for tests); `train` -> `classify` -> `embed` run through the installed console script on files of several formats,
sample rates and channel counts, plus a broken file. Caches and the synthetic set go to a temporary GENRE_NBS_DATA.
"""
import csv, json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

BIN = Path(sys.executable).parent
GENRES = ['blues', 'classical', 'jazz', 'metal', 'pop']  # holds the DSAE paper's four genres


@pytest.fixture(scope='module')
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp('cli')
    old = os.environ.get('GENRE_NBS_DATA')
    os.environ['GENRE_NBS_DATA'] = str(d/'data')  # caches of in-process runs stay out of the repository
    yield d
    if old is None: os.environ.pop('GENRE_NBS_DATA', None)
    else: os.environ['GENRE_NBS_DATA'] = old


@pytest.fixture(scope='module')
def tiny(workdir):
    from genre_nbs.synthetic import make_synthetic_gtzan
    return make_synthetic_gtzan(workdir/'tiny', n_per_genre=4, duration=30.0, genres=GENRES)


def cli(*args, workdir):
    "Run the installed console script; (returncode, stdout, stderr)."
    env = dict(os.environ, GENRE_NBS_DATA=str(workdir/'data'), TF_CPP_MIN_LOG_LEVEL='2', MPLBACKEND='Agg',
               PYTHONWARNINGS='ignore')
    r = subprocess.run([str(BIN/'genre-nbs'), *map(str, args)], capture_output=True, text=True, env=env, timeout=600)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture(scope='module')
def report(tiny, workdir):
    "The whole report on the tiny set: `genre-nbs reproduce --preset tiny`."
    from genre_nbs.cli import main
    out = workdir/'report'
    assert main(['reproduce', '--data', str(tiny), '--preset', 'tiny', '--out', str(out), '--quiet']) == 0
    return out


def test_reproduce_end_to_end(report, tiny, workdir):
    from genre_nbs.evaluation import FAMILIES, MODELS, PRESETS
    from genre_nbs.families import report_inputs
    out = report
    md, res = (out/'results.md').read_text(), json.loads((out/'results.json').read_text())
    assert md.startswith('# Results') and '| model | input | protocol |' in md
    rows = res['rows']
    failed = [(r['family'], r.get('error')) for r in rows if r['status'] != 'ok']
    assert not failed, failed
    with_rows = {f for f in FAMILIES if f != 'figures' and (f not in MODELS or report_inputs(f, PRESETS['tiny']))}
    assert {r['family'] for r in rows} >= with_rows, with_rows - {r['family'] for r in rows}
    models = {r['model'] for r in rows}
    assert models >= {'rf', 'logreg', 'svm', 'knn', 'two_layer_nn', 'dsae', 'ae_probe', 'cnn', 'cnn_small', 'seq2seq_gru', 'seq2seq_lstm',
                      'beta_vae', 'wavenet'}, models
    assert not any(r['protocol'] == 'leaky' for r in rows)  # leaky rows only under --protocol leaky
    test = sorted(t for t, side in res['split'].items() if side == 'test')
    assert all(r['test_tracks'] == test for r in rows if r.get('genres_used') != 'DSAE 4 genres')  # one split
    for r in rows:
        for k in ('train_acc', 'valid_acc', 'test_acc', 'track_acc', 'track_lo', 'track_hi', 'macro_f1'):
            if r.get(k) is not None: assert 0 <= r[k] <= 1, (r['model'], r['input'], k, r[k])
        assert r['track_lo'] <= r['track_acc'] <= r['track_hi']
    chance = 1 / len(GENRES)
    for r in rows:  # the classical learners fit their training windows well above chance even on a tiny set
        if r['model'] in ('rf', 'svm'): assert r['train_acc'] > chance, (r['model'], r['input'], r['train_acc'])
    assert res['config']['preset'] == 'tiny' and res['dataset']['n_tracks'] == 20
    assert res['dataset']['root'] == tiny.name  # the report names the folder, not where it lies on this machine
    assert {'numpy', 'tensorflow', 'keras', 'librosa', 'sklearn'} <= set(res['versions'])
    assert res['timings']['total'] > 0
    for name in ('dsae_confusion.png', 'dsae_codes_pca.png', 'dsae_logits_pca.png', 'dsae_history.png',
                 'cnn_logmel_confusion.png', 'cnn_raw_history.png', 'svm_logmel_prf.png', 'rf_confusion.png',
                 'seq2seq_gru_tsne.png', 'beta_vae_tsne.png', 'spectrograms.png', 'raw_pca.png'):
        assert (out/name).stat().st_size > 1000, name


def test_train_gives_the_model_of_the_report_row(report, tiny, workdir):
    """Every row scored from a saved model is the model `train` makes: train_model with the row's name and input on the same
    data, preset and seed, then `classify`'s reading of the test tracks (`file_proba`), gives the row's predictions."""
    from genre_nbs.data import scan_gtzan
    from genre_nbs.evaluation import train_model
    from genre_nbs.families import file_proba, load_predictor
    rows = [r for r in json.loads((report/'results.json').read_text())['rows'] if r.get('test_pred')]
    assert {r['model'] for r in rows} >= {'rf', 'logreg', 'svm', 'knn', 'two_layer_nn', 'dsae', 'ae_probe', 'cnn', 'cnn_small',
                                          'random_cnn', 'musicnn', 'seq2seq_gru', 'seq2seq_lstm', 'beta_vae', 'wavenet'}
    by_id = scan_gtzan(tiny).set_index('track_id')
    for r in rows:
        d = train_model(r['model'], tiny, input=r['train_input'], preset='tiny', out=workdir/'trained'/Path(r['model_dir']).name)
        pred, ref = load_predictor(d), load_predictor(report/r['model_dir'])
        P = {t: file_proba(pred, by_id.path[t]) for t in r['test_tracks']}
        for t, p in P.items():  # the same probabilities as the report's saved model, not only the same top genre
            assert np.allclose(p, file_proba(ref, by_id.path[t]), atol=1e-6), (r['model'], r['input'], t)
        got = {t: pred.genres[int(np.argmax(p))] for t, p in P.items()}
        assert got == r['test_pred'], (r['model'], r['input'], got, r['test_pred'])
        assert np.isclose(np.mean([g == by_id.genre[t] for t, g in got.items()]), r['track_acc'])  # the row's score is these answers
        assert pred.config['trained_on']['train_tracks'] == r['train_tracks'] or pred.config.get('refit_on_valid')
        assert not set(pred.config['trained_on']['train_tracks'] + pred.config['trained_on']['valid_tracks']) & set(r['test_tracks'])


@pytest.fixture(scope='module')
def clips(tiny, workdir):
    "One synthetic clip written as wav (44.1 kHz stereo), flac, ogg, mp3, a 1 s wav, and a broken file."
    import librosa
    from genre_nbs.data import load_audio
    y = load_audio(tiny/'genres'/'metal'/'metal.00000.wav')[:22050*8]
    d = workdir/'clips'; d.mkdir()
    y44 = librosa.resample(y, orig_sr=22050, target_sr=44100)
    sf.write(d/'stereo44k.wav', np.stack([y44, 0.5*y44], 1), 44100)
    sf.write(d/'clip.flac', y, 22050)
    sf.write(d/'clip.ogg', y, 22050)
    sf.write(d/'clip.mp3', y, 22050)
    sf.write(d/'short.wav', y[:22050], 22050)
    (d/'broken.wav').write_bytes(b'RIFF\x00\x00\x00\x00WAVEgarbage' * 10)
    return d


@pytest.fixture(scope='module')
def knn_model(tiny, workdir):
    rc, out, err = cli('train', '--model', 'knn', '--data', tiny, '--out', workdir/'models'/'knn', '--preset', 'tiny',
                       workdir=workdir)
    assert rc == 0, err
    assert 'saved knn' in out
    return workdir/'models'/'knn'


def test_train_list(workdir):
    from genre_nbs.evaluation import MODEL_NAMES
    rc, out, _ = cli('train', '--list', workdir=workdir)
    assert rc == 0 and out.split() == list(MODEL_NAMES)
    assert {'two_layer_nn', 'svm', 'knn', 'ffnn', 'rf', 'logreg', 'ae', 'dsae', 'seq2seq_gru', 'seq2seq_lstm', 'beta_vae',
            'wavenet', 'cnn'} <= set(out.split())


def test_classify_json(knn_model, clips, workdir):
    rc, out, err = cli('classify', '--model', knn_model, clips, '--json', workdir=workdir)
    assert rc == 1, err  # broken.wav failed: exit 1, every other file classified
    res = json.loads(out)  # exactly one JSON object on stdout
    assert set(res) == {'predictions', 'errors'}
    files = {Path(p['file']).name for p in res['predictions']}
    assert files == {'stereo44k.wav', 'clip.flac', 'clip.ogg', 'clip.mp3', 'short.wav'}, res
    for p in res['predictions']:
        assert set(p) == {'file', 'genre', 'probabilities'}
        assert list(p['probabilities']) == GENRES and p['genre'] in GENRES
        assert abs(sum(p['probabilities'].values()) - 1) < 1e-3
        assert p['genre'] == max(p['probabilities'], key=p['probabilities'].get)
    assert [Path(e['file']).name for e in res['errors']] == ['broken.wav']
    assert set(res['errors'][0]) == {'file', 'error'} and res['errors'][0]['error']


def test_classify_table_csv_and_exit_codes(knn_model, clips, workdir):
    rc, out, err = cli('classify', '--model', knn_model, clips/'clip.flac', clips/'broken.wav', workdir=workdir)
    assert rc == 1 and 'clip.flac' in out and 'broken.wav' in err  # one file failed: exit 1, the others classified
    rc, out, _ = cli('classify', '--model', knn_model, clips/'clip.ogg', '--csv', workdir=workdir)
    rows = list(csv.reader(out.splitlines()))
    assert rc == 0 and rows[0] == ['file', 'genre'] + GENRES and len(rows) == 2
    rc, out, err = cli('classify', '--model', knn_model, clips/'broken.wav', '--json', workdir=workdir)
    assert rc == 1 and json.loads(out)['predictions'] == [] and len(json.loads(out)['errors']) == 1


def test_embed_npz_and_csv(knn_model, clips, workdir):
    rc, out, err = cli('embed', '--model', knn_model, clips, '--out', workdir/'emb.npz', workdir=workdir)
    assert rc == 1 and 'broken.wav' in err, err  # the broken file: exit 1, the others embedded
    z = np.load(workdir/'emb.npz')
    assert z['embeddings'].shape == (5, 15) and len(z['files']) == 5 and np.isfinite(z['embeddings']).all()
    rc, out, err = cli('embed', '--model', knn_model, clips/'clip.mp3', '--out', workdir/'emb.csv', workdir=workdir)
    rows = list(csv.reader((workdir/'emb.csv').read_text().splitlines()))
    assert rc == 0 and rows[0][0] == 'file' and len(rows) == 2 and len(rows[1]) == 16


def test_dsae_and_ae_models(tiny, clips, workdir):
    for name in ('dsae', 'ae'):
        rc, _, err = cli('train', '--model', name, '--data', tiny, '--out', workdir/'models'/name, '--preset', 'tiny',
                         '--genres', 'classical', 'jazz', 'metal', 'pop', workdir=workdir)
        assert rc == 0, err
        assert not (workdir/'models'/f'{name}.ckpt').exists()  # the per-epoch training state goes once the model is saved
    rc, out, err = cli('classify', '--model', workdir/'models'/'dsae', clips/'clip.mp3', '--json', workdir=workdir)
    assert rc == 0, err
    assert list(json.loads(out)['predictions'][0]['probabilities']) == ['classical', 'jazz', 'metal', 'pop']
    rc, out, err = cli('embed', '--model', workdir/'models'/'dsae', clips/'clip.flac', clips/'stereo44k.wav',
                       '--out', workdir/'dsae.npz', workdir=workdir)
    assert rc == 0, err
    assert np.load(workdir/'dsae.npz')['embeddings'].shape == (2, 64)  # the DSAE's 64-d code
    rc, out, err = cli('classify', '--model', workdir/'models'/'ae', clips/'clip.flac', workdir=workdir)
    assert rc == 2 and 'only embed' in err and 'Traceback' not in err


def test_user_errors_are_one_line(tiny, clips, workdir):
    cases = [(('reproduce', '--data', workdir/'no-such-dir'), 'does not exist'),
             (('train', '--model', 'knn', '--data', tiny, '--genres', 'polka'), 'polka'),
             (('train', '--model', 'resnet'), "unknown model 'resnet'"),
             (('classify', '--model', clips, clips/'clip.flac'), 'not a genre_nbs model'),
             (('classify', '--model', workdir/'missing-model', clips/'clip.flac'), 'does not exist'),
             (('embed', '--model', workdir/'missing-model', clips, '--out', workdir/'x.txt'), '.npz or .csv')]
    for args, msg in cases:
        rc, out, err = cli(*args, workdir=workdir)
        assert rc == 2, (args, rc, err)
        assert msg in err and 'Traceback' not in err and len(err.strip().splitlines()) == 1, (args, err)


def test_help_has_examples(workdir):
    rc, out, _ = cli('--help', workdir=workdir)
    assert rc == 0 and 'examples:' in out and 'genre-nbs reproduce' in out and 'classify' in out


def test_scheduler_flag_runs_extraction_on_dask(tiny, workdir):
    "`--scheduler ADDR`: the feature extraction of a command runs as tasks on that Dask cluster, same model as locally."
    distributed = pytest.importorskip('distributed', reason="dask.distributed not installed: pip install 'dask[distributed]'")
    from genre_nbs.cli import main
    local_out, dask_out = workdir/'rf_local', workdir/'rf_dask'
    kw = ['train', '--model', 'rf', '--data', str(tiny), '--preset', 'tiny', '--quiet']
    assert main([*kw, '--out', str(local_out)]) == 0
    import shutil; shutil.rmtree(workdir/'data'/'cache', ignore_errors=True)  # recompute: nothing from the cache
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
         distributed.Client(cl) as client, distributed.get_task_stream(client) as ts:
        assert main([*kw, '--out', str(dask_out), '--scheduler', cl.scheduler_address]) == 0
    assert len(ts.data) >= 20, f'only {len(ts.data)} tasks ran on the cluster'  # one per track (20 tracks)
    a, b = (json.loads((d/'config.json').read_text())['metrics'] for d in (local_out, dask_out))
    assert a == b, (a, b)
    # a scheduler that is not there: one line naming the flag, no traceback
    os.environ['DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT'] = '3s'  # give up on the dead address quickly
    try: rc, out, err = cli(*kw, '--out', workdir/'rf_none', '--scheduler', 'tcp://127.0.0.1:9', workdir=workdir)
    finally: del os.environ['DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT']
    assert rc == 2 and err.strip().startswith('genre-nbs: error: --scheduler tcp://127.0.0.1:9'), err[-2000:]


def test_exit_codes_tell_failures_from_bugs_and_bad_input(tiny, workdir, monkeypatch, capsys):
    "0 all done; 1 a family failed or a bug (traceback on stderr); 2 bad input (one line). Messages go to stderr."
    import genre_nbs.evaluation as E
    from genre_nbs.cli import main
    def broken(ctx, k): raise RuntimeError('the family broke')
    monkeypatch.setitem(E.FAMILIES, 'rf', E.FAMILIES['rf'].__class__('rf', broken, ('rf',), None, False))
    assert main(['reproduce', '--data', str(tiny), '--preset', 'tiny', '--out', str(workdir/'broken'), '--models', 'rf', '--quiet']) == 1
    out, err = capsys.readouterr()
    assert 'failed families: rf' in err and 'failed families' not in out
    assert main(['reproduce', '--data', str(workdir/'no-such-dir'), '--quiet']) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    def bug(*a, **kw): raise ValueError('an internal bug')  # a plain ValueError is not the user's input
    monkeypatch.setattr(E, 'run_experiment', bug)
    assert main(['reproduce', '--data', str(tiny), '--quiet']) == 1
    err = capsys.readouterr().err
    assert 'Traceback' in err and 'internal error: ValueError: an internal bug' in err


def test_long_files_are_read_in_blocks_at_the_models_rate(tmp_path, monkeypatch):
    "A long file goes through a model block by block, outputs combined by length; a model that reads only a clip's first seconds gets only those."
    import genre_nbs.cli as C, genre_nbs.families as F
    from types import SimpleNamespace
    from genre_nbs.families import Predictor
    level = np.repeat([0.1, 0.2, 0.3], [32000, 32000, 56000]).astype(np.float32)  # 2 s, 2 s, 3.5 s at 16 kHz
    sf.write(tmp_path/'long.wav', level, 16000, subtype='FLOAT')
    monkeypatch.setattr(F, 'BLOCK_S', 2.0)
    seen = []
    def fn(clip, sr): seen.append((len(clip), sr)); return np.array([np.median(clip), 1.0])
    out = C.file_output(SimpleNamespace(sr=8000), tmp_path/'long.wav', fn)  # read at the model's rate: 8 kHz
    assert [n for n, _ in seen] == [16000, 16000, 28000] and {s for _, s in seen} == {8000}
    assert abs(out[0] - (2 * 0.1 + 2 * 0.2 + 3.5 * 0.3) / 7.5) < 1e-4 and out[1] == 1.0  # weighted by length (0.22, not 0.2)
    seen.clear(); C.file_output(SimpleNamespace(sr=8000, max_seconds=1.5), tmp_path/'long.wav', fn)
    assert seen == [(12000, 8000)]  # only the first 1.5 s are read
    seen.clear(); C.file_output(SimpleNamespace(sr=8000, blockwise=False), tmp_path/'long.wav', fn)
    assert seen == [(60000, 8000)]  # a whole-clip model reads the whole file
    class HeadOnEmbedding(Predictor):  # a classifier on the clip's embedding sees the file's combined embedding, once
        needs_input, head_on_embedding = False, True
        def embed(self, y, sr): return np.array([np.median(y)])
        def proba_of_embedding(self, z): seen.append(float(z[0])); return np.array([z[0], 1 - z[0]])
    seen.clear()
    p = C.file_proba(HeadOnEmbedding(None, {'model': 'dsae', 'genres': ['a', 'b']}, tmp_path), tmp_path/'long.wav')
    assert len(seen) == 1 and abs(seen[0] - 0.22) < 1e-4 and abs(p[0] - 0.22) < 1e-4
