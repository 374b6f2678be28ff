"""Scale-out checks of genre_nbs.scale on a real dask.distributed cluster (worker processes, TCP on loopback).

The Dask path must give the local path's features bit for bit: log-mel and the Kaggle handcrafted rows of 6
generated clips, through `extract_features_dask` and through `extract_features`' defaults inside `use_dask` /
`dask_context` (as the CLI calls it). Skipped with a reason when dask.distributed is not installed
(pip install 'dask[distributed]'). About 20-40 s on 2 shared cores (most of it the worker processes importing librosa).
"""
import os, subprocess, sys, textwrap, warnings
from pathlib import Path
import numpy as np
import pytest

distributed = pytest.importorskip('distributed', reason="dask.distributed not installed: pip install 'dask[distributed]'")

from genre_nbs.data import scan_gtzan
from genre_nbs.synthetic import make_synthetic_gtzan
from genre_nbs.features import extract_features, logmel, HUANG_MEL, kaggle_rows
from genre_nbs.scale import dask_client, use_dask, dask_context, extract_features_dask, distributed_strategy

GENRES = ['blues', 'classical', 'jazz', 'metal', 'pop', 'rock']


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = make_synthetic_gtzan(tmp_path_factory.mktemp('synth'), n_per_genre=1, duration=6.0, genres=GENRES)
    return list(scan_gtzan(root).path)


KAGGLE = dict(segment_s=3.0, compat=True)


@pytest.fixture(scope='module')
def local(clips):
    """The local path's numbers, in this process (n_jobs=1). Every task limits BLAS to one thread, as in a loky or Dask
    worker process (the BLAS thread count changes the Kaggle chroma in its last bits, ~1e-7 relative), so this is the
    workers' exact computation; tests/test_features.py checks n_jobs=1 == threads == loky."""
    return dict(logmel=extract_features(clips, logmel, HUANG_MEL, n_jobs=1, progress=False),
                kaggle=extract_features(clips, kaggle_rows, KAGGLE, n_jobs=1, progress=False))


@pytest.fixture(scope='module')
def cluster():
    # separate worker processes (the realistic case: tasks and results are pickled over TCP), loopback only
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1',
                                     dashboard_address=None, worker_dashboard_address=None)
    yield c
    c.close()


def test_cluster_is_real(cluster):
    with dask_client(cluster.scheduler_address) as client:
        workers = client.scheduler_info()['workers']
        assert len(workers) == 2 and all(a.startswith('tcp://127.0.0.1:') for a in workers)
        pids = set(client.run(os.getpid).values())
        assert len(pids) == 2 and os.getpid() not in pids


def test_logmel_bit_for_bit(clips, local, cluster):
    with dask_client(cluster.scheduler_address) as client:
        with distributed.get_task_stream(client) as ts:
            remote = extract_features_dask(clips, logmel, HUANG_MEL, scheduler=client)
    assert len(ts.data) > 0, 'no task ran on the Dask workers'
    ref = local['logmel']
    assert remote.X.shape == (6, 64, 517) and remote.X.dtype == np.float32
    assert np.array_equal(remote.X, ref.X)
    assert np.array_equal(remote.index, ref.index) and remote.skipped == ref.skipped == []


def test_kaggle_rows_and_cache_bit_for_bit(clips, local, cluster, tmp_path):
    ref = local['kaggle']
    bad = tmp_path/'broken.wav'; bad.write_bytes(b'RIFF....WAVE')
    with pytest.warns(UserWarning, match='skipped 1 of 7'):
        remote = extract_features_dask(clips + [str(bad)], kaggle_rows, KAGGLE, scheduler=cluster.scheduler_address,
                                       cache_dir=tmp_path/'cache')
    assert remote.X.shape == (6, 2, 58) and np.array_equal(remote.X, ref.X)
    assert list(remote.index) == list(range(6)) and remote.skipped[0][0] == str(bad)
    # the workers wrote the per-file cache; a local rerun reads it (one set file) and gets the same arrays
    assert len(list((tmp_path/'cache').glob('features-*.npys'))) == 6
    with pytest.warns(UserWarning, match='skipped 1 of 7'):  # a cached rerun still reports the unreadable file
        again = extract_features(clips + [str(bad)], kaggle_rows, KAGGLE, n_jobs=1, progress=False, cache_dir=tmp_path/'cache')
    assert np.array_equal(again.X, ref.X) and again.skipped == remote.skipped


def test_default_backend_goes_to_dask(clips, local, cluster):
    """extract_features' defaults (n_jobs=-1, backend=None) inside use_dask / dask_context: every file a task on the
    cluster's worker processes, the local arrays bit for bit (log-mel and the BLAS-using Kaggle rows)."""
    with use_dask(cluster.scheduler_address) as client:
        workers = set(client.scheduler_info()['workers'])
        with distributed.get_task_stream(client) as ts:
            fs = extract_features(clips, kaggle_rows, KAGGLE, progress=False)
    ran = [t for t in ts.data if 'extract_one' in str(t['key'])]
    assert len(ran) == len(clips) and {t['worker'] for t in ran} <= workers
    assert np.array_equal(fs.X, local['kaggle'].X)
    with dask_context(cluster.scheduler_address) as client:
        with distributed.get_task_stream(client) as ts:
            fs = extract_features(clips, logmel, HUANG_MEL, progress=False)
    assert len([t for t in ts.data if 'extract_one' in str(t['key'])]) == len(clips)
    assert np.array_equal(fs.X, local['logmel'].X)
    with dask_context(None) as nothing:  # no scheduler: the local default, nothing sent anywhere
        assert nothing is None and np.array_equal(extract_features(clips, logmel, HUANG_MEL, progress=False).X, local['logmel'].X)


def test_use_dask_routes_joblib(cluster):
    import joblib
    with use_dask(cluster) as client:
        worker_pids = set(client.run(os.getpid).values())
        pids = joblib.Parallel(n_jobs=2)(joblib.delayed(os.getpid)() for _ in range(8))
    assert set(pids) <= worker_pids


def test_errors():
    with pytest.raises(TypeError, match='scheduler must be'):
        with dask_client(3.5): pass
    with pytest.raises(ValueError, match='min_devices'): distributed_strategy(min_devices=0)


def test_distributed_strategy_default_and_mirrored():
    "One device: TF's default strategy. Two logical CPUs passed as devices: a MirroredStrategy that Keras can fit under."
    code = textwrap.dedent("""
        import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
        import numpy as np, tensorflow as tf, keras
        cpu = tf.config.list_physical_devices('CPU')[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from genre_nbs.scale import distributed_strategy
        s = distributed_strategy()
        assert s.num_replicas_in_sync == 1 and not isinstance(s, tf.distribute.MirroredStrategy), s
        cpus = [d.name for d in tf.config.list_logical_devices('CPU')]
        assert len(cpus) == 2, cpus
        m = distributed_strategy(devices=cpus)
        assert isinstance(m, tf.distribute.MirroredStrategy) and m.num_replicas_in_sync == 2
        with m.scope():
            model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3, activation='softmax')])
            model.compile('adam', 'sparse_categorical_crossentropy')
        h = model.fit(np.random.rand(64, 8).astype('float32'), np.arange(64) % 3, batch_size=16, epochs=1, verbose=0)
        assert np.isfinite(h.history['loss'][0])
        print('OK')
    """)
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and 'OK' in r.stdout, r.stderr[-3000:]
