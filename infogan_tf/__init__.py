"""InfoGAN (Chen et al. 2016, arXiv:1606.03657) for TensorFlow 2 / Keras 3."""

__version__ = "0.1.0"
