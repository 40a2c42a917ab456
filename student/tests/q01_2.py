OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _x = torch.arange(10.0)\n>>> _r2 = r_squared(_x, 3 * _x + 1)\n>>> assert isinstance(_r2, float) and abs(_r2 - 1) < 1e-09\n',
                                       'failure_message': 'r_squared must return a Python float, and 1.0 for points on an exact line: y = 3 x + 1',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> assert isinstance(r2_area, float) and isinstance(r2_radius, float)\n>>> assert 0 <= r2_area <= 1 and 0 <= r2_radius <= 1\n',
                                       'failure_message': 'r2_area and r2_radius must be Python floats between 0 and 1 (a least-squares line with an intercept is never worse than the constant '
                                                          'mean(y))',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
