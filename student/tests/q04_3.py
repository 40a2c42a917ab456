OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert np.shape(mi_noise) == (10, 5) and np.shape(per_code) == (10,)\n'
                                               '>>> assert np.all((np.asarray(per_code) >= 0) & (np.asarray(per_code) <= 1))\n'
                                               '>>> assert isinstance(modularity_noise, float)\n'
                                               '>>> assert abs(modularity_noise - np.mean(per_code)) < 1e-12\n'
                                               '>>> assert isinstance(noise_floor((4, 4)), float) and abs(noise_floor((4, 4))) < 1e-09\n',
                                       'failure_message': 'per_code must be a (10,) array of modularities between 0 and 1 and modularity_noise their mean, a float. noise_floor(sizes) returns a '
                                                          "float: with two factors of the same number of values, a noise code's two MIs are about equal, so its modularity is 0.",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
