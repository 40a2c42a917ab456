OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert np.shape(mi) == (5, 5) and np.shape(entropy) == (5,)\n'
                                               '>>> assert np.all(np.asarray(mi) >= -1e-09) and np.all(np.argmax(mi, axis=0) == np.arange(5))\n'
                                               '>>> _log_sizes = np.log(np.asarray(sprites.factor_sizes, dtype=float))\n'
                                               '>>> assert np.all(np.asarray(entropy) < _log_sizes - 0.0001)\n'
                                               '>>> assert np.all(np.asarray(entropy) > _log_sizes - 0.05)\n'
                                               '>>> assert isinstance(mig_40, float) and 0 <= mig_40 <= 1\n',
                                       'failure_message': "mi must be a (5, 5) array of mutual informations (>= 0), entropy a (5,) array, and mig_40 a float between 0 and 1. Each factor's most "
                                                          'informative code is its own: for true_codes, the largest entry of column j of mi is in row j. entropy[j] is the entropy of the 2,000 '
                                                          "samples of factor j, from their frequencies (mi of the factor with itself): a constant column has entropy 0, and these samples' entropies "
                                                          'lie a little below ln of the numbers of values, np.log(sprites.factor_sizes), not on it.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
