"""Issue 9: a training run killed with SIGKILL resumes from its last saved epoch and ends with exactly the weights and
history of a run that was never interrupted -- for the CNN, the DSAE and the beta-VAE (all three train through
`training.fit_epochs`, as do the two-layer net, Huang's FFNN and the other USC models)."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pytest

CHILD = r'''
import sys, json, hashlib, numpy as np
from genre_nbs.training import deterministic_tf
deterministic_tf()
import genre_nbs.training as T, genre_nbs.cnn as C, genre_nbs.autoencoders as A, genre_nbs.seq2seq as S
out, ckpt, epochs, kind = sys.argv[1], (sys.argv[2] if sys.argv[2] != '-' else None), int(sys.argv[3]), sys.argv[4]
info = {}
def spy(*a, **k):  # records where fit_epochs started: 0 for a fresh run, the saved epochs for a resumed one
    h = T.fit_epochs(*a, **k); info['resumed_from'] = h['resumed_from']; return h
C.fit_epochs = A.fit_epochs = S.fit_epochs = spy
r = np.random.default_rng(0)
if kind == 'cnn':  # windows, SpecAugment masks, dropout, batch norm, early stopping on validation
    X = r.normal(0, 1, (16, 64, 260)).astype(np.float32); y = np.arange(16) % 2
    for i in range(16): X[i, y[i] * 32:(y[i] + 1) * 32] += 1.0
    m = C.huang_cnn(n_classes=2, width=16, seed=0)
    h = C.train_cnn(m, (X[:12], y[:12]), (X[12:], y[12:]), epochs=epochs, batch_size=8, n_random=6, seed=0,
                    patience=100, spec_aug=dict(f_max=4, t_max=10), checkpoint=ckpt)
elif kind == 'dsae':  # two outputs, gamma-weighted loss, dropout, a standardisation layer adapted on the data
    X, y = A.toy_segments(256, seed=0); Xv, yv = A.toy_segments(64, seed=1)
    m = A.build_dsae(seed=0, lr=1e-3)
    h = A.fit_dsae(m, X, y, Xv, yv, epochs=epochs, batch_size=32, seed=0, checkpoint=ckpt)
elif kind == 'vae':  # the step-based beta-VAE: sampling noise from its own seed generator
    import keras; keras.utils.set_random_seed(0)
    X = r.normal(0, 0.1, (24, 22050)).astype(np.float32)
    inp, norm = S.prepare(X[:18], S.LATENT_INPUTS['beta_vae']); vinp, _ = S.prepare(X[18:], S.LATENT_INPUTS['beta_vae'], norm)
    m = S.build_model('beta_vae', S.LATENT_INPUTS['beta_vae'], 8, seed=0)
    h = S.fit_latent(m, inp, vinp, epochs=epochs, batch_size=2, seed=0, checkpoint=ckpt)
w = hashlib.sha1(b''.join(np.asarray(a).tobytes() for a in m.get_weights())).hexdigest()
json.dump(dict(weights=w, loss=h['loss'], val_loss=h.get('val_loss'), resumed_from=info['resumed_from']), open(out, 'w'))
'''
EPOCHS = {'cnn': 24, 'dsae': 60, 'vae': 12}


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='', PYTHONHASHSEED='0')


def _run(out, ckpt, kind, timeout=300):
    p = subprocess.run([sys.executable, '-c', CHILD, str(out), str(ckpt), str(EPOCHS[kind]), kind], env=_env(),
                       capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(Path(out).read_text())


def _epochs_saved(state: Path) -> int:
    try:
        with np.load(state) as z: return json.loads(bytes(z['meta']).decode())['epochs_done']
    except Exception: return 0


@pytest.mark.parametrize('kind', list(EPOCHS))
def test_kill_during_training_then_resume(tmp_path, kind):
    ref = _run(tmp_path/'ref.json', '-', kind)                 # never interrupted
    ckpt = tmp_path/'ckpt'; state = ckpt/'train_state.npz'
    p = subprocess.Popen([sys.executable, '-c', CHILD, str(tmp_path/'killed.json'), str(ckpt), str(EPOCHS[kind]), kind], env=_env(),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, killed_after = time.time(), None
    while time.time() - t0 < 240 and p.poll() is None:
        n = _epochs_saved(state)
        if n >= 3: os.kill(p.pid, signal.SIGKILL); killed_after = n; break
        time.sleep(0.02)
    p.wait(timeout=60)
    assert killed_after is not None, f"the child finished or stalled before 3 epochs were saved (rc {p.returncode})"
    assert p.returncode == -signal.SIGKILL and not (tmp_path/'killed.json').exists()
    saved = _epochs_saved(state)
    assert killed_after <= saved < EPOCHS[kind], (killed_after, saved)   # the state file is whole and mid-run
    res = _run(tmp_path/'resumed.json', ckpt, kind)            # the rerun picks the state up
    assert res['resumed_from'] == saved
    assert ref['resumed_from'] == 0
    assert res['loss'] == ref['loss'] and res['val_loss'] == ref['val_loss']
    assert res['weights'] == ref['weights']                    # bit for bit
    assert not [p for p in ckpt.iterdir() if '.tmp' in p.name]  # nothing half-written is left behind
    print(f"{kind}: killed after {saved} of {EPOCHS[kind]} epochs; resumed run identical to the uninterrupted one")
