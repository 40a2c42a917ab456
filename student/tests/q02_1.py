OK_FORMAT = True

test = {   'name': 'q02_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(tuple(copies.shape) == (128, 3))\nTrue',
                                       'failure_message': 'copies must be a tensor of shape (128, 3): n_codes codes of three angles',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
