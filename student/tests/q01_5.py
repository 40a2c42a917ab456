OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_5',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert in_hole.dtype == torch.bool and tuple(in_hole.shape) == (63,)\n>>> assert int(in_hole.sum()) == 15\n',
                                       'failure_message': 'in_hole must be a bool tensor of shape (63,) marking the radii 11.0, 11.5, ..., 18.0 (15 of them: the interval is closed)',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> assert tuple(sse_none.shape) == (63,) and tuple(sse_type3.shape) == (63,)\n'
                                               '>>> assert bool((sse_none >= 0).all()) and bool((sse_type3 >= 0).all())\n'
                                               '>>> for _value in (psi3_none, psi3_type3, ratio):\n'
                                               '...     assert isinstance(_value, float) and _value > 0\n',
                                       'failure_message': 'sse_none and sse_type3 must hold one squared error >= 0 per disk, shape (63,); psi3_none, psi3_type3 and ratio must be positive Python '
                                                          'floats',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
