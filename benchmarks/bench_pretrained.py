"""musicnn's Keras 3 port (genre_nbs.pretrained) against the original TensorFlow 1 graph, in the same process on the same
clips: milliseconds to run the network on one 30 s clip (10 patches of 3 s) after it is loaded, interleaved round by
round so that a change in the machine's load hits both alike; the GFLOP/s reached (conv and dense layers counted
analytically); the input pipeline (16 kHz resampling, mel power, log, patches) per clip.
Run alone it only prints; `benchmarks/run.py --sections pretrained` records it in results.md.
Usage: python benchmarks/bench_pretrained.py [--quick]"""
import sys, time
from pathlib import Path
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO/'tests'))  # the original graph runs from the test helper: never from the package

def musicnn_gflop(n_patches:int=10)->dict:
    "GFLOP (a multiply-add counts 2) of musicnn's conv and dense layers for n patches of 187 frames."
    conv = lambda positions, k, c_in, c_out: 2 * positions * k * c_in * c_out
    t = 187
    g = dict(timbral=conv(t * (96 - 38 + 1), 7 * 38, 1, 204) + conv(t * (96 - 67 + 1), 7 * 67, 1, 204),
             temporal=sum(conv(t * 96, k, 1, 51) for k in (128, 64, 32)),
             midend=conv(t, 7, 561, 64) + 2 * conv(t, 7, 64, 64), backend=2 * (1506 * 200 + 200 * 50))
    return {k: v * n_patches / 1e9 for k, v in g.items()}

def clips(n:int):
    "n 30 s clips: the shared real GTZAN sample (one per genre first), else generated tracks."
    from genre_nbs.data import load_audio, shared_data_dir
    from genre_nbs.synthetic import synthesize_track, GTZAN_GENRES
    root = shared_data_dir()/'gtzan-sample'/'genres'
    if root.is_dir(): return 'real GTZAN clips', [load_audio(p) for p in sorted(root.glob('*/*.00000.wav'))[:n]]
    return 'generated clips', [synthesize_track(g, seed=0, duration=30.0) for g in GTZAN_GENRES[:n]]

def run(quick:bool='--quick' in sys.argv, model:str='MSD_musicnn')->dict:
    "Measure; return a dict for benchmarks/run.py."
    import tensorflow as tf
    from musicnn_reference import ReferenceModel
    from genre_nbs.pretrained import musicnn_input, musicnn_runner
    what, ys = clips(3 if quick else 5)
    batches = [musicnn_input(y, 22050)[:10] for y in ys]
    assert all(b.shape == (10, 187, 96) for b in batches), [b.shape for b in batches]
    ref, port = ReferenceModel(model), musicnn_runner(model)
    runners = {'original TF1 graph (graph import, Session)': ref, 'Keras 3 port (fused, tf.function)': port}
    for fn in runners.values():
        for b in batches[:3]: fn(b)  # warm-up: tracing, oneDNN's primitive caches
    times = {k: [] for k in runners}
    for r in range(10 if quick else 30):
        b = batches[r % len(batches)]
        for k, fn in runners.items():
            t = time.perf_counter(); out = fn(b); np.asarray(out['taggram']); times[k].append(1000 * (time.perf_counter() - t))
    ms = {k: float(np.median(v)) for k, v in times.items()}
    pipe = []
    for y in ys:
        for _ in range(3): t = time.perf_counter(); musicnn_input(y, 22050); pipe.append(1000 * (time.perf_counter() - t))
    g = musicnn_gflop(10)
    return dict(model=model, clips=what, n_clips=len(ys), gflop_per_clip=sum(g.values()), gflop_parts=g, ms_per_clip=ms,
                ratio=ms['original TF1 graph (graph import, Session)'] / ms['Keras 3 port (fused, tf.function)'],
                gflops={k: sum(g.values()) / v * 1e3 for k, v in ms.items()}, input_ms_per_clip=float(np.median(pipe)),
                tf_threads=(tf.config.threading.get_intra_op_parallelism_threads(), tf.config.threading.get_inter_op_parallelism_threads()))

if __name__ == '__main__':
    r = run()
    print(f"{r['model']} on {r['n_clips']} {r['clips']}: {r['gflop_per_clip']:.1f} GFLOP per 30 s clip")
    for k, v in r['ms_per_clip'].items(): print(f"  {k:45s} {v:7.1f} ms/clip  {r['gflops'][k]:6.1f} GFLOP/s")
    print(f"  port / original: {r['ratio']:.2f}x faster; input pipeline {r['input_ms_per_clip']:.1f} ms/clip")
