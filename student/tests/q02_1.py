OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(copies, torch.Tensor) and tuple(copies.shape) == (128, 3))\nTrue',
                                       'failure_message': 'copies must be a tensor of shape (128, 3): n_codes codes of three angles',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
