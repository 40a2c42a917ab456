OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q00_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _three = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 1.0]])\n'
                                               '>>> assert closest_pair(_three) == (0, 2)\n'
                                               '>>> assert isinstance(closest, tuple) and len(closest) == 2\n'
                                               '>>> assert all((isinstance(c, int) and 0 <= c <= 9 for c in closest))\n'
                                               '>>> assert closest[0] < closest[1]\n',
                                       'failure_message': 'closest_pair(means) must return a tuple (a, b) of two different row indices (Python ints) with a < b: for the points (0, 0), (5, 0), (0, 1) '
                                                          'it is (0, 2); closest must be closest_pair(class_means)',
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
