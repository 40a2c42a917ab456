OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> for _d in (1, 2, 3, 4):\n'
                                               '...     assert isinstance(exact(_d), float) and 0 < exact(_d) < 1\n'
                                               '>>> assert exact(1) < exact(2) < exact(3) < exact(4)\n'
                                               '>>> _same = [simulate(2000, 3, torch.Generator().manual_seed(3)) for _ in range(3)]\n'
                                               '>>> assert isinstance(_same[0], float) and 0 <= _same[0] <= 1\n'
                                               '>>> assert _same[0] == _same[1] == _same[2]\n'
                                               '>>> assert isinstance(p_not_linear, float) and isinstance(p_exact, float)\n',
                                       'failure_message': 'exact(d) and simulate(n, d, generator) must return Python floats between 0 and 1; exact must grow with d; simulate must draw from the '
                                                          'generator it is given (the same seed, the same estimate)',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
