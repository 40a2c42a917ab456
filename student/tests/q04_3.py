OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert np.shape(mi_noise) == (10, 5) and np.shape(per_code) == (10,)\n'
                                               '>>> assert np.all((np.asarray(per_code) >= 0) & (np.asarray(per_code) <= 1))\n'
                                               '>>> assert isinstance(modularity_noise, float)\n'
                                               '>>> assert abs(modularity_noise - np.mean(per_code)) < 1e-12\n'
                                               '>>> _a = noise_modularity((3, 50), 500, 1)\n'
                                               '>>> assert isinstance(_a, float) and 0 <= _a <= 1\n'
                                               '>>> assert _a == noise_modularity((3, 50), 500, 1)\n',
                                       'failure_message': 'per_code must be a (10,) array of modularities between 0 and 1 and modularity_noise their mean, a float. noise_modularity(sizes, n, seed) '
                                                          'returns a float between 0 and 1, the same for the same arguments (draw with np.random.default_rng(seed): the factors first, column by '
                                                          'column, then the codes), and it must accept a factor with more values than the 20 bins.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
