"""Writing the solution at the requested output times from each accepted step's dense output."""

import tensorflow as tf


def step_holds_output(t, count, direction, index, t1, at_end):
    """Whether the output time at ``index`` (a scalar or a vector of them) falls in a step that ends
    at t1 (or ends the solve)."""
    return (index < count) & (at_end | (direction * tf.gather(t, tf.minimum(index, count - 1)) <= direction * t1))


def write_outputs(t, count, direction, index, ys, t_start, h, t1, at_end, evaluate):
    """Writes ``evaluate(theta)`` for every output time in the step [t_start, t1]; returns the next
    output index and the outputs (a TensorArray, or under XLA a tensor)."""
    if not isinstance(ys, tf.TensorArray):
        # XLA cannot differentiate a while_loop inside the step loop's cond, so every output time is
        # evaluated at once and only this step's are kept (theta elsewhere is zeroed: no overflow).
        rows = tf.range(count)
        holds = (rows >= index) & step_holds_output(t, count, direction, rows, t1, at_end)
        theta = tf.where(holds, (t - t_start) / h, tf.zeros_like(t))
        ys = tf.where(holds[:, None], evaluate(theta[:, None]), ys)
        return index + tf.reduce_sum(tf.cast(holds, tf.int32)), ys

    def more(i, ys):
        return step_holds_output(t, count, direction, i, t1, at_end)

    def write(i, ys):
        return i + 1, ys.write(i, evaluate((t[i] - t_start) / h))

    return tf.while_loop(more, write, (index, ys), maximum_iterations=count)


def finish(ys, index, count, dtype):
    """Stacks the outputs; rows never written (after a failure) become NaN."""
    ys = ys.stack() if isinstance(ys, tf.TensorArray) else ys
    written = tf.reshape(tf.range(count) < index, [-1] + [1] * (len(ys.shape) - 1))
    return tf.where(written, ys, tf.constant(float("nan"), dtype))
