"""Writing the solution at the requested output times from each accepted step's dense output."""

import tensorflow as tf


def step_holds_output(t, count, direction, index, t1, at_end):
    """Whether the output time at ``index`` falls in a step that ends at t1 (or ends the solve)."""
    return (index < count) & (at_end | (direction * t[tf.minimum(index, count - 1)] <= direction * t1))


def write_outputs(t, count, direction, index, ys, t_start, h, t1, at_end, evaluate):
    """Writes ``evaluate(theta)`` for every output time in the step [t_start, t1]; returns the next
    output index and the TensorArray."""

    def more(i, ys):
        return step_holds_output(t, count, direction, i, t1, at_end)

    def write(i, ys):
        return i + 1, ys.write(i, evaluate((t[i] - t_start) / h))

    # The bound matters to XLA, which needs it to differentiate the loop.
    return tf.while_loop(more, write, (index, ys), maximum_iterations=count)


def finish(ys, index, count, dtype):
    """Stacks the outputs; rows never written (after a failure) become NaN."""
    ys = ys.stack()
    written = tf.reshape(tf.range(count) < index, [-1] + [1] * (len(ys.shape) - 1))
    return tf.where(written, ys, tf.constant(float("nan"), dtype))
