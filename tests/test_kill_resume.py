"""Issue 9: a training run killed with SIGKILL resumes from its last saved epoch and ends with exactly the weights and
history of a run that was never interrupted."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pytest

CHILD = r'''
import sys, json, hashlib, numpy as np
from genre_nbs.evaluation import deterministic_tf
deterministic_tf()
from genre_nbs.cnn import huang_cnn, train_cnn
r = np.random.default_rng(0)
X = r.normal(0, 1, (16, 64, 260)).astype(np.float32); y = np.arange(16) % 2
for i in range(16): X[i, y[i] * 32:(y[i] + 1) * 32] += 1.0
ckpt = sys.argv[2] if sys.argv[2] != '-' else None
m = huang_cnn(n_classes=2, width=16, seed=0)
h = train_cnn(m, (X[:12], y[:12]), (X[12:], y[12:]), epochs=int(sys.argv[3]), batch_size=8, n_random=6, seed=0,
              patience=100, spec_aug=dict(f_max=4, t_max=10), checkpoint=ckpt)
w = hashlib.sha1(b''.join(np.asarray(a).tobytes() for a in m.get_weights())).hexdigest()
json.dump(dict(weights=w, loss=h['loss'], val_loss=h['val_loss'], best_epoch=h['best_epoch'],
               resumed_from=h['resumed_from']), open(sys.argv[1], 'w'))
'''
EPOCHS = 24


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='', PYTHONHASHSEED='0')


def _run(out, ckpt, timeout=300):
    p = subprocess.run([sys.executable, '-c', CHILD, str(out), str(ckpt), str(EPOCHS)], env=_env(), capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(Path(out).read_text())


def _epochs_saved(state: Path) -> int:
    try:
        with np.load(state) as z: return len(json.loads(bytes(z['meta']).decode())['hist']['loss'])
    except Exception: return 0


def test_kill_during_training_then_resume(tmp_path):
    ref = _run(tmp_path/'ref.json', '-')                       # never interrupted
    ckpt = tmp_path/'ckpt'; state = ckpt/'train_state.npz'
    p = subprocess.Popen([sys.executable, '-c', CHILD, str(tmp_path/'killed.json'), str(ckpt), str(EPOCHS)], env=_env(),
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
    assert killed_after <= saved < EPOCHS, (killed_after, saved)   # the state file is whole and mid-run
    res = _run(tmp_path/'resumed.json', ckpt)                   # the rerun picks the state up
    assert res['resumed_from'] == saved
    assert res['loss'] == ref['loss'] and res['val_loss'] == ref['val_loss'] and res['best_epoch'] == ref['best_epoch']
    assert res['weights'] == ref['weights']                    # bit for bit
    assert not list(ckpt.glob('.tmp-*'))                       # nothing half-written is left behind
    print(f"killed after {saved} of {EPOCHS} epochs; resumed run identical to the uninterrupted one")
