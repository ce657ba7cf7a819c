"""Helpers shared by the integration loops."""

import tensorflow as tf


def keep_shapes(new, old):
    """Gives each new loop variable the static shape of the old one (ops such as reshapes inside
    conds lose it, and tf.while_loop requires it to stay fixed)."""

    def keep(updated, previous):
        if isinstance(updated, tf.Tensor) and isinstance(previous, tf.Tensor):
            return tf.ensure_shape(updated, previous.shape)
        return updated

    return tf.nest.map_structure(keep, new, old)
