"""Image classification, the task of the ODE-Net: images with integer labels, from the embedded
digits, tensorflow-datasets, CSV or TFRecord files; served as logits, probabilities and classes;
blessed on accuracy."""
