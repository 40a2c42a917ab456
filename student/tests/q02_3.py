OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _even = (torch.arange(16, dtype=torch.float64)[:, None] + 0.5) * tau / 16 - math.pi\n'
                                               '>>> _even = _even.repeat(1, 2)\n'
                                               '>>> assert abs(float(my_spring_loss(_even)) - 2 * tau ** 2 / 16) < 1e-09\n'
                                               '>>> assert isinstance(val_spring, float) and val_spring >= 3 * tau ** 2 / n_codes - 1e-09\n',
                                       'failure_message': 'my_spring_loss of equally spaced angles (sorted, one gap tau/S everywhere) must be the minimum d tau^2 / S; val_spring must be a Python '
                                                          'float, never below that minimum',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
