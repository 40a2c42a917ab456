"""One module per paper's losses; each function's docstring cites its equation."""
