"""The Splink linkage model: input features, settings and training, nightly scoring, evaluation, charts."""
