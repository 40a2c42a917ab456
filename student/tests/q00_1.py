OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q00_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(closest, tuple) and len(closest) == 2 and (closest[0] < closest[1]))\nTrue',
                                       'failure_message': 'closest must be a tuple (a, b) of two different digits with a < b, e.g. (3, 5)',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> bool(tuple(class_means.shape) == (10, 2))\nTrue',
                                       'failure_message': 'class_means must be a tensor of shape (10, 2): row c is the mean code of digit c',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
