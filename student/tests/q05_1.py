OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(tuple(perm_s.shape) == (1, 10, 10) and set(perm_s.unique().tolist()) <= {0.0, 1.0})\nTrue',
                                       'failure_message': 'perm_s must have shape (1, 10, 10) (one image, 10 projectors, 10 coordinates), entries 0 or 1',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
