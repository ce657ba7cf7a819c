"""Stiff test problems from the IVP test set (Mazzia and Magherini, Bari), written once over an
array namespace so that the TensorFlow dynamics, the NumPy reference and the benchmark peers (JAX)
share one definition."""

import dataclasses

import numpy as np


@dataclasses.dataclass
class StiffProblem:
    name: str
    rhs: object  # rhs(y, stack) with y indexable by component
    y0: np.ndarray
    t: np.ndarray

    def tf_func(self, t, y):
        import tensorflow as tf  # imported here so that peers' environments can load the problems

        return self.rhs(y, tf.stack)

    def np_func(self, t, y):
        return self.rhs(y, np.array)


def robertson(y, stack):
    return stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
                  0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
                  3e7 * y[1] ** 2])


def van_der_pol_stiff(y, stack, mu=1e3):
    return stack([y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]])


def hires(y, stack):
    y1, y2, y3, y4, y5, y6, y7, y8 = (y[i] for i in range(8))
    reaction = 280.0 * y6 * y8
    return stack([
        -1.71 * y1 + 0.43 * y2 + 8.32 * y3 + 0.0007,
        1.71 * y1 - 8.75 * y2,
        -10.03 * y3 + 0.43 * y4 + 0.035 * y5,
        8.32 * y2 + 1.71 * y3 - 1.12 * y4,
        -1.745 * y5 + 0.43 * y6 + 0.43 * y7,
        -reaction + 0.69 * y4 + 1.71 * y5 - 0.43 * y6 + 0.69 * y7,
        reaction - 1.81 * y7,
        -reaction + 1.81 * y7,
    ])


def orego(y, stack):
    y1, y2, y3 = y[0], y[1], y[2]
    return stack([77.27 * (y2 + y1 * (1 - 8.375e-6 * y1 - y2)),
                  (y3 - (1 + y1) * y2) / 77.27,
                  0.161 * (y1 - y3)])


_POLLUTION_RATES = (0.35, 26.6, 1.23e4, 8.6e-4, 8.2e-4, 1.5e4, 1.3e-4, 2.4e4, 1.65e4, 9.0e3, 2.2e-2, 1.2e4,
                    1.88, 1.63e4, 4.8e6, 3.5e-4, 1.75e-2, 1.0e8, 4.44e11, 1.24e3, 2.1, 5.78, 4.74e-2, 1.78e3, 3.12)


def pollution(y, stack):
    k = (None,) + _POLLUTION_RATES
    y = (None,) + tuple(y[i] for i in range(20))
    r = (None, k[1] * y[1], k[2] * y[2] * y[4], k[3] * y[5] * y[2], k[4] * y[7], k[5] * y[7],
         k[6] * y[7] * y[6], k[7] * y[9], k[8] * y[9] * y[6], k[9] * y[11] * y[2], k[10] * y[11] * y[1],
         k[11] * y[13], k[12] * y[10] * y[2], k[13] * y[14], k[14] * y[1] * y[6], k[15] * y[3],
         k[16] * y[4], k[17] * y[4], k[18] * y[16], k[19] * y[16], k[20] * y[17] * y[6], k[21] * y[19],
         k[22] * y[19], k[23] * y[1] * y[4], k[24] * y[19] * y[1], k[25] * y[20])
    return stack([
        -r[1] - r[10] - r[14] - r[23] - r[24] + r[2] + r[3] + r[9] + r[11] + r[12] + r[22] + r[25],
        -r[2] - r[3] - r[9] - r[12] + r[1] + r[21],
        -r[15] + r[1] + r[17] + r[19] + r[22],
        -r[2] - r[16] - r[17] - r[23] + r[15],
        -r[3] + 2 * r[4] + r[6] + r[7] + r[13] + r[20],
        -r[6] - r[8] - r[14] - r[20] + r[3] + 2 * r[18],
        -r[4] - r[5] - r[6] + r[13],
        r[4] + r[5] + r[6] + r[7],
        -r[7] - r[8],
        -r[12] + r[7] + r[9],
        -r[9] - r[10] + r[8] + r[11],
        r[9],
        -r[11] + r[10],
        -r[13] + r[12],
        r[14],
        -r[18] - r[19] + r[16],
        -r[20],
        r[20],
        -r[21] - r[22] - r[24] + r[23] + r[25],
        -r[25] + r[24],
    ])


def _pollution_y0():
    y0 = np.zeros(20)
    y0[[1, 3, 6, 7, 8, 16]] = [0.2, 0.04, 0.1, 0.3, 0.01, 0.007]
    return y0


def stiff_problems():
    return [
        StiffProblem("robertson", robertson, np.array([1.0, 0.0, 0.0]), np.array([0.0, 1e-2, 1.0, 1e2, 1e4, 1e5])),
        StiffProblem("van_der_pol_1e3", van_der_pol_stiff, np.array([2.0, 0.0]), np.linspace(0.0, 3000.0, 7)),
        StiffProblem("hires", hires, np.array([1.0, 0, 0, 0, 0, 0, 0, 0.0057]), np.array([0.0, 5.0, 321.8122])),
        StiffProblem("orego", orego, np.array([1.0, 2.0, 3.0]), np.linspace(0.0, 360.0, 7)),
        StiffProblem("pollution", pollution, _pollution_y0(), np.array([0.0, 1.0, 60.0])),
    ]
