"""Pure-TensorFlow ODE solvers."""
