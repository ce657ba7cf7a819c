"""Flattening a nested state (dicts, lists, tuples of tensors) into the one vector the solvers step."""

import tensorflow as tf
from tensorflow.python.util import nest

FLOAT_DTYPES = (tf.float32, tf.float64)


class StateLayout:
    """Remembers the structure, shapes and dtype of ``y0`` to flatten and restore states."""

    def __init__(self, y0, batch_major=False):
        self.structure = y0
        self.batch_major = batch_major
        leaves = tf.nest.flatten(y0)
        if not leaves:
            raise ValueError("odeint: y0 is empty; give at least one tensor.")
        self.leaves = [tf.convert_to_tensor(leaf) for leaf in leaves]
        dtypes = {leaf.dtype for leaf in self.leaves}
        bad = [d for d in dtypes if d not in FLOAT_DTYPES]
        if bad:
            raise ValueError(f"odeint: y0 must hold float32 or float64 tensors, got {bad[0].name}; "
                             "cast it with tf.cast(y0, tf.float32) or tf.float64.")
        if len(dtypes) > 1:
            names = sorted(d.name for d in dtypes)
            raise ValueError(f"odeint: y0 mixes dtypes {names}; every leaf must share one float dtype.")
        self.dtype = self.leaves[0].dtype
        self.shapes = [leaf.shape for leaf in self.leaves]
        self.dynamic_shapes = [tf.shape(leaf) for leaf in self.leaves]
        self.sizes = [tf.size(leaf) for leaf in self.leaves]
        if batch_major:
            ranks = [leaf.shape.rank for leaf in self.leaves]
            if any(rank is not None and rank < 1 for rank in ranks):
                raise ValueError("odeint: independent_batch=True needs a leading batch axis on every leaf of y0.")
            batches = {leaf.shape[0] for leaf in self.leaves if leaf.shape.rank}
            if len(batches - {None}) > 1:
                raise ValueError(f"odeint: independent_batch=True needs the same leading batch size on every "
                                 f"leaf of y0, found {sorted(batches - {None})}.")
            static = self.leaves[0].shape[0] if self.leaves[0].shape.rank else None
            self.batch = static if static is not None else tf.shape(self.leaves[0])[0]
            static_sizes = [leaf.shape.num_elements() for leaf in self.leaves]
            self.row_sizes = [size // self.batch if size is not None and static is not None else dynamic // self.batch
                              for size, dynamic in zip(static_sizes, self.sizes)]

    @property
    def paths(self):
        """Each leaf's position in y0, as an indexing suffix such as ``['a'][0]``."""
        return _paths(self.structure)

    def flatten(self, state):
        """One vector; batch-major (all of system 0, then all of system 1 ...) for independent systems."""
        leaves = tf.nest.flatten(state)
        if len(leaves) == 1:
            return tf.reshape(leaves[0], [-1])
        if self.batch_major:
            return tf.reshape(tf.concat([tf.reshape(leaf, [self.batch, -1]) for leaf in leaves], axis=1), [-1])
        return tf.concat([tf.reshape(leaf, [-1]) for leaf in leaves], axis=0)

    def unflatten(self, vector):
        if len(self.leaves) == 1:
            pieces = [vector]
        elif self.batch_major:
            pieces = tf.split(tf.reshape(vector, [self.batch, -1]), self.row_sizes, axis=1)
        else:
            pieces = tf.split(vector, self.sizes, axis=0)
        leaves = [tf.reshape(piece, shape) for piece, shape in zip(pieces, self.dynamic_shapes)]
        leaves = [tf.ensure_shape(leaf, shape) for leaf, shape in zip(leaves, self.shapes)]
        return tf.nest.pack_sequence_as(self.structure, leaves)

    def unflatten_trajectory(self, vectors):
        """[len(t), size] -> the structure of y0 with a leading time axis on each leaf."""
        count = tf.shape(vectors)[0]
        if len(self.leaves) == 1:
            pieces = [vectors]
        elif self.batch_major:
            pieces = tf.split(tf.reshape(vectors, [count, self.batch, -1]), self.row_sizes, axis=2)
        else:
            pieces = tf.split(vectors, self.sizes, axis=1)
        leaves = [tf.reshape(piece, tf.concat([[count], shape], 0)) for piece, shape in zip(pieces, self.dynamic_shapes)]
        leaves = [tf.ensure_shape(leaf, [vectors.shape[0]] + shape.as_list()) if shape.rank is not None else leaf
                  for leaf, shape in zip(leaves, self.shapes)]
        return tf.nest.pack_sequence_as(self.structure, leaves)

    def check_derivative(self, derivative):
        """Raises ValueError if func's output does not match y's structure, shapes and dtype."""
        try:
            tf.nest.assert_same_structure(self.structure, derivative)
        except (ValueError, TypeError) as error:
            raise ValueError(f"odeint: func(t, y) must return the structure of y0; {error}") from None
        paths = _paths(self.structure)
        for path, leaf, shape in zip(paths, tf.nest.flatten(derivative), self.shapes):
            leaf = tf.convert_to_tensor(leaf)
            if leaf.dtype != self.dtype:
                raise ValueError(f"odeint: func(t, y){path} has dtype {leaf.dtype.name} but y{path} is "
                                 f"{self.dtype.name}; return derivatives in the state's dtype.")
            if not leaf.shape.is_compatible_with(shape):
                raise ValueError(f"odeint: func(t, y){path} has shape {leaf.shape} but y{path} has shape "
                                 f"{shape}; return one derivative per state entry.")


def _paths(structure):
    flat = nest.flatten_with_joined_string_paths(structure)
    return ["" if not path else "".join(f"[{p!r}]" if not p.isdigit() else f"[{p}]" for p in path.split("/"))
            for path, _ in flat]
