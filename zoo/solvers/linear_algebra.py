"""Jacobians by autodiff and the linear solves of implicit methods, dense or block-diagonal.

A state of ``size`` entries is either one system (a dense ``size x size`` Jacobian) or, when the
user declares ``independent_batch=True``, ``batch`` independent systems of ``size / batch`` entries
each: the Jacobian is then block-diagonal and is formed with ``batch_jacobian`` and factored as
``batch`` small matrices, which is the neural-ODE case (a batch of independent trajectories).
"""

import tensorflow as tf


def as_complex(x):
    """Real x as a complex tensor whose gradient comes back real: tf.cast's gradient from complex to
    real would warn, at every use, that it discards the imaginary part."""
    return tf.complex(x, tf.zeros_like(x))


class LinearAlgebra:
    """Forms Jacobians of a flat ``func(t, y)`` and solves with ``scale * I - J``.

    TensorFlow has no XLA kernel for LU decomposition, so under ``jit_compile=True`` the matrices
    are factored by Householder QR instead (about twice the arithmetic of LU, same solutions).
    """

    def __init__(self, func, batch=None, user_jacobian=None, use_qr=False):
        self.func = func
        self.batch = batch
        self.user_jacobian = user_jacobian
        self.use_qr = use_qr

    def _blocks(self, y):
        if isinstance(self.batch, int) and y.shape[0] is not None:
            return tf.reshape(y, [self.batch, y.shape[0] // self.batch])
        return tf.reshape(y, [self.batch, -1])

    def jacobian(self, t, y):
        """d func / d y at (t, y): [size, size], or [batch, n, n] for independent systems."""
        if self.user_jacobian is not None:
            jacobian = self.user_jacobian(t, y)
        elif self.batch is None:
            with tf.GradientTape() as tape:
                tape.watch(y)
                value = self.func(t, y)
            jacobian = tape.jacobian(value, y, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        else:
            blocks = self._blocks(y)
            with tf.GradientTape() as tape:
                tape.watch(blocks)
                value = self._blocks(self.func(t, tf.reshape(blocks, [-1])))
            jacobian = tape.batch_jacobian(value, blocks, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return jacobian

    def time_derivative(self, t, y):
        """d func / d t at (t, y), by forward-mode autodiff (zeros for autonomous dynamics)."""
        with tf.autodiff.ForwardAccumulator(t, tf.ones_like(t)) as accumulator:
            value = self.func(t, y)
        return accumulator.jvp(value, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def factor(self, jacobian, scale):
        """The matrix ``scale * I - J`` with its LU (or QR) factors; scale may be complex (Radau)."""
        n = tf.shape(jacobian)[-1]
        dtype = scale.dtype if hasattr(scale, "dtype") else jacobian.dtype
        jacobian = as_complex(jacobian) if dtype.is_complex else jacobian
        matrix = tf.cast(scale, dtype) * tf.eye(n, dtype=dtype) - jacobian
        # Autodiff never enters the factorization: solve() supplies the gradient of a solve.
        factors = tf.linalg.qr(matrix) if self.use_qr else tf.linalg.lu(matrix)
        return matrix, tuple(tf.stop_gradient(factor) for factor in factors)

    def solve(self, factored, rhs):
        """Solves ``matrix x = rhs`` with the factors; rhs and x are flat [size] vectors.

        Differentiable in both the matrix (so gradients see how the Jacobian shapes the step) and
        the right-hand side: dL/drhs = A^-T g and dL/dA = -(A^-T g) x^T.
        """
        matrix, factors = factored

        @tf.custom_gradient
        def solve(matrix, rhs):
            columns = self._columns(rhs)
            if self.use_qr:
                q, r = factors
                solution = tf.linalg.triangular_solve(r, tf.linalg.matmul(q, columns, adjoint_a=True), lower=False)
            else:
                solution = tf.linalg.lu_solve(factors[0], factors[1], columns)

            def gradient(upstream):
                if self.use_qr:  # A^H x = g with A = QR: x = Q R^-H g (XLA has no complex MatrixSolve)
                    q, r = factors
                    adjoint = tf.linalg.matmul(q, tf.linalg.triangular_solve(r, self._columns(upstream), lower=False,
                                                                             adjoint=True))
                else:
                    adjoint = tf.linalg.solve(matrix, self._columns(upstream), adjoint=True)
                return -tf.linalg.matmul(adjoint, solution, adjoint_b=True), tf.reshape(adjoint, [-1])

            return tf.reshape(solution, [-1]), gradient

        return tf.ensure_shape(solve(matrix, rhs), rhs.shape)

    def _columns(self, vector):
        return vector[:, None] if self.batch is None else self._blocks(vector)[..., None]
