"""One module per paper's model; each module docstring cites its paper."""
