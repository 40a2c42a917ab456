OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_4',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _d, _c = dci_d_c(np.eye(5))\n'
                                               '>>> assert isinstance(_d, float) and isinstance(_c, float)\n'
                                               '>>> assert abs(_d - 1) < 1e-06 and abs(_c - 1) < 1e-06\n'
                                               '>>> _d, _c = dci_d_c(np.vstack([np.eye(5), np.eye(5)]))\n'
                                               '>>> assert abs(_d - 1) < 1e-06 and abs(_c - (1 - math.log(2) / math.log(10))) < 1e-06\n'
                                               '>>> assert 0 <= d_rotated <= 1 and 0 <= c_rotated <= 1\n',
                                       'failure_message': 'dci_d_c(R) returns two floats. One code per factor (the identity) is perfectly disentangled and complete, D = C = 1; the duplicated code of '
                                                          'section 2 (two codes per factor, each for one factor) keeps D = 1 and has C = 1 - ln 2 / ln 10.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
