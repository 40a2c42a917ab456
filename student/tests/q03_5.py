OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_5',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> for _share in (mixed_separable, mixed_short_armed, mixed_short_armed_apart):\n...     assert isinstance(_share, float) and 0 <= _share <= 1\n',
                                       'failure_message': 'mixed_separable, mixed_short_armed and mixed_short_armed_apart must be Python floats, shares between 0 and 1 (use .item())',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
