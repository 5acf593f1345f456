"""The risk model (风险模型): the cold-start scorecard, LightGBM training and champion/challenger, the model registry,
evaluation metrics."""
