"""The codebook: the YAML file (load, validate, apply, export) and theme/code ids."""
