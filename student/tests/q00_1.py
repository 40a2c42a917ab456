OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q00_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(closest, tuple) and len(closest) == 2\n'
                                               '>>> assert all((isinstance(c, int) and 0 <= c <= 9 for c in closest))\n'
                                               '>>> assert closest[0] < closest[1]\n',
                                       'failure_message': 'closest must be a tuple (a, b) of two different digits (Python ints) with a < b, e.g. (3, 5)',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> assert tuple(class_means.shape) == (10, 2)\n',
                                       'failure_message': 'class_means must be a tensor of shape (10, 2): row c is the mean code of digit c',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
