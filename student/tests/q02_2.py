OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(p_not_linear, float) and 0 < p_not_linear < 1\n>>> assert isinstance(p_exact, float) and 0 < p_exact < 1\n',
                                       'failure_message': 'p_not_linear and p_exact must be Python floats strictly between 0 and 1 (use .item())',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
