OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(p_not_linear, float) and 0 < p_not_linear < 1)\nTrue',
                                       'failure_message': 'p_not_linear must be a Python float strictly between 0 and 1 (use .item())',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
