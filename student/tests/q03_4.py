OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_4',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(spearman, np.ndarray) and spearman.shape == (3, 3)\n'
                                               '>>> assert np.all(np.abs(spearman) <= 1 + 1e-12)\n'
                                               '>>> assert isinstance(best_spearman, np.ndarray) and best_spearman.shape == (3,)\n'
                                               '>>> assert np.allclose(best_spearman, np.abs(spearman).max(0))\n',
                                       'failure_message': "spearman must be a NumPy array (3, 3), rows the block's coordinates and columns (amplitude, x, y), with entries in [-1, 1]; best_spearman "
                                                          '(3,) the largest |rho| per column',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
