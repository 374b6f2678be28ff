"""Issue 8: training under tf.distribute.MirroredStrategy. No GPU here, so the CPU is split into two logical devices
and `scale.distributed_strategy` is pointed at them: every Keras family of `reproduce` must train and score under a
two-replica strategy (as it would on two GPUs), and a mirrored training run must resume from its saved state."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

CHILD = r'''
import sys, json, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices('CPU')[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import genre_nbs.scale as S
from genre_nbs.evaluation import run_experiment
from genre_nbs.training import training_scope
from genre_nbs.autoencoders import build_dsae, fit_dsae, toy_segments
cpus = [d.name for d in tf.config.list_logical_devices('CPU')]
mirrored = lambda devices=None, min_devices=2, _f=S.distributed_strategy: _f(devices or cpus, min_devices)
S.distributed_strategy = mirrored  # what two visible GPUs would give
out = {}
with training_scope():
    s = tf.distribute.get_strategy(); out['strategy'] = [type(s).__name__, s.num_replicas_in_sync]
X, y = toy_segments(128, seed=0); Xv, yv = toy_segments(32, seed=1)
def dsae(epochs, ckpt=None):
    with training_scope():
        m = build_dsae(seed=0, lr=1e-3)
        h = fit_dsae(m, X, y, Xv, yv, epochs=epochs, batch_size=32, seed=0, checkpoint=ckpt)
    return m, h
m_ref, h_ref = dsae(4)
dsae(2, sys.argv[2]); m_res, h_res = dsae(4, sys.argv[2])  # two epochs, then resumed to four
out['resume_equal'] = h_res['loss'] == h_ref['loss'] and all(np.array_equal(a, b) for a, b in zip(m_res.get_weights(), m_ref.get_weights()))
out['loss'] = h_ref['loss']
res = run_experiment(sys.argv[1], preset='tiny', out=sys.argv[3], models=['svm', 'two_layer_nn', 'dsae', 'cnn_small', 'beta_vae'],
                     progress=False, cache_dir=sys.argv[4])
out['rows'] = [[r['model'], r['input'], r['status'], r.get('error'), r.get('test_acc')] for r in res['rows']]
json.dump(out, open(sys.argv[5], 'w'))
'''


def test_keras_families_train_under_a_two_replica_mirrored_strategy(tmp_path):
    from genre_nbs.synthetic import make_synthetic_gtzan
    data = make_synthetic_gtzan(tmp_path/'data', seed=0, n_per_genre=3, duration=28.0,
                                genres=['classical', 'jazz', 'metal', 'pop'])
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', CUDA_VISIBLE_DEVICES='', TF_NUM_INTEROP_THREADS='1')
    res = tmp_path/'res.json'
    p = subprocess.run([sys.executable, '-c', CHILD, str(data), str(tmp_path/'ckpt'), str(tmp_path/'out'),
                        str(tmp_path/'cache'), str(res)], env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-4000:]
    r = json.loads(res.read_text())
    assert r['strategy'] == ['MirroredStrategy', 2]
    assert r['loss'][-1] < r['loss'][0]                      # the mirrored DSAE learns
    assert r['resume_equal']                                 # and resumes to the uninterrupted run's weights
    rows = r['rows']
    assert {m for m, *_ in rows} >= {'two_layer_nn', 'svm', 'dsae', 'ae_probe', 'cnn_small', 'beta_vae'}
    bad = [row for row in rows if row[2] != 'ok']
    assert not bad, bad                                      # every family ran; none failed under the strategy
    print(f"{len(rows)} rows trained and scored under MirroredStrategy over 2 logical CPU devices")
