"""Miniature (or full-size) copies of every file real mode accepts, written in each publisher's own layout.

One module per published source. Each writes what its publisher wrote (file format, key names and
prefixes, wrappers, dtypes, config files, folder and file names), with the library that wrote the
original where we have it (diffusers/transformers `save_pretrained`, `torch.save`, safetensors, onnx)
and seeded random weights, at the widths of an ArchConfig: TINY for the tests, REAL for the full-size
rehearsal. The layout of each is cited beside its writer. Nothing here reads the exporter's own
modules: these files are what the exporter's loaders are tested against.
"""
