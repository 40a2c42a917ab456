"""Data sources (real files with checksums) and vectorised synthetic generators."""
