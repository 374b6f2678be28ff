"""musicnn's ORIGINAL TF1 inference graph, run in TensorFlow 2 through graph import: the reference the Keras port of
`genre_nbs.pretrained` is checked against. Test code only; nothing in the package imports it.

The graph comes from the checkpoint's `.meta` file: the subgraph that computes the outputs is extracted, the
`_output_shapes` attributes (which TF 2 refuses) are dropped, and every variable is assigned from the checkpoint."""
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from genre_nbs.pretrained import checkpoint_dir, read_checkpoint

INPUT, IS_TRAINING = 'model/Placeholder:0', 'model/Placeholder_2:0'  # x (None, 187, 96), is_training (fed False)
OUTPUTS = {'musicnn': dict(taggram='model/Sigmoid:0',
                           penultimate='model/batch_normalization_10/batchnorm/add_1:0',  # BN(ReLU(dense))
                           max_pool='model/Max:0', mean_pool='model/moments/Squeeze:0'),  # (None, 753, 1) each
           'vgg': dict(taggram='model/Sigmoid:0')}


def _outputs(model): return OUTPUTS['vgg' if 'vgg' in model else 'musicnn']


def subgraph(graph_def, outputs):
    "The nodes of `graph_def` that `outputs` (node names) depend on, in their original order."
    nodes, keep, todo = {n.name: n for n in graph_def.node}, set(), list(outputs)
    while todo:
        name = todo.pop()
        if name not in keep: keep.add(name); todo += [i.lstrip('^').split(':')[0] for i in nodes[name].input]
    sub = tf.compat.v1.GraphDef()
    sub.versions.CopyFrom(graph_def.versions); sub.library.CopyFrom(graph_def.library)
    sub.node.extend(n for n in graph_def.node if n.name in keep)
    return sub


def inference_graph_def(model):
    """The subgraph of the `.meta` graph needed for the outputs, shape annotations dropped. Its dropout ops (never run:
    `is_training` is fed False) get a fixed seed, since TensorFlow refuses unseeded random ops once op determinism is on."""
    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString((checkpoint_dir(model)/'.meta').read_bytes())
    sub = subgraph(meta.graph_def, [t.split(':')[0] for t in _outputs(model).values()])
    for node in sub.node:
        if '_output_shapes' in node.attr: del node.attr['_output_shapes']
        if node.op.startswith('Random') and not (node.attr['seed'].i or node.attr['seed2'].i): node.attr['seed'].i = 1
    return sub


class ReferenceModel:
    "The original graph in a tf.compat.v1 Session, its variables assigned from the checkpoint."
    def __init__(self, model='MSD_musicnn'):
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.compat.v1.import_graph_def(inference_graph_def(model), name='')
            ckpt, ops, feed = read_checkpoint(model), [], {}
            variables = [n for n in self.graph.get_operations() if n.type in ('VariableV2', 'VarHandleOp')]
            if {v.name for v in variables} != set(ckpt): raise ValueError('graph variables and checkpoint variables differ')
            for v in variables:
                value = tf.compat.v1.placeholder(v.outputs[0].dtype.base_dtype, name=f'init/{v.name}')
                ops.append(tf.compat.v1.assign(v.outputs[0], value)); feed[value] = ckpt[v.name]
            self.session = tf.compat.v1.Session(graph=self.graph)
            self.session.run(ops, feed)
            self.fetch = {k: self.graph.get_tensor_by_name(t) for k, t in _outputs(model).items()}
            self.x, self.is_training = (self.graph.get_tensor_by_name(n) for n in (INPUT, IS_TRAINING))

    def __call__(self, patches):
        "Outputs for (n, 187, 96) patches; the pools squeezed to (n, 753)."
        out = self.session.run(self.fetch, {self.x: np.asarray(patches, np.float32), self.is_training: False})
        return {k: (v[..., 0] if k.endswith('_pool') else v) for k, v in out.items()}
