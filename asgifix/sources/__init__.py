"""Sources: parse project files into the model the rules match against.

Each module turns one kind of file into a small, immutable-ish model with exact
source spans: ``requirements`` (pip requirements and constraints files) and
``python`` (modules, parsed once with the stdlib ``ast``).
"""
