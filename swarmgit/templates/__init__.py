"""Bundled templates: track documents and the example config."""
