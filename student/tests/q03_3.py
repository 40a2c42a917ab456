OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(match, torch.Tensor) and tuple(match.shape) == (200, 2)\n'
                                               '>>> assert match.dtype == torch.int64\n'
                                               '>>> assert torch.equal(match.sort(1).values, torch.tensor([[0, 1]]).expand(200, 2))\n'
                                               '>>> assert isinstance(matched_distance, float) and matched_distance >= 0\n',
                                       'failure_message': 'match must be an int64 tensor (200, 2) whose every row is a permutation of (0, 1): each spike is drawn by exactly one atom; '
                                                          'matched_distance a Python float >= 0',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
