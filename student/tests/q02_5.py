OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_5',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert abs(fourier_statistic(torch.zeros(50, 3, dtype=torch.float64)) - 64 * 50) < 1e-06\n'
                                               '>>> assert isinstance(fourier_t, float) and fourier_t >= 0\n'
                                               '>>> assert isinstance(fourier_p, float) and 0 <= fourier_p <= 1\n',
                                       'failure_message': 'fourier_statistic of n identical codes (every |m_k| = 1) must be 2 n M = 64 n; fourier_t must be a Python float >= 0 and fourier_p a '
                                                          'probability',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
