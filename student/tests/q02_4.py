OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_4',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _n = 20\n'
                                               '>>> _grid = (torch.arange(_n, dtype=torch.float64) + 0.5) * tau / _n - math.pi\n'
                                               '>>> assert abs(kuiper_v(_grid) - 1 / _n) < 1e-12\n'
                                               '>>> assert isinstance(v_val, np.ndarray) and v_val.shape == (3,)\n'
                                               '>>> assert ((v_val > 0) & (v_val <= 1)).all()\n',
                                       'failure_message': 'v_val must be a NumPy array of shape (3,) with values in (0, 1]; kuiper_v of n equally spaced angles (u_(i) = (i - 1/2) / n) must be '
                                                          'exactly 1/n',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
