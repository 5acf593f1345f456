"""Monthly enterprise features (企业月度特征): the indicator catalogue, the point-in-time feature table and its
expectations."""
