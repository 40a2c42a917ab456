OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q02_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> from lib.toroidal import spring_loss as _spring_loss\n'
                                               '>>> assert isinstance(copies, torch.Tensor) and tuple(copies.shape) == (128, 3)\n'
                                               '>>> assert copies.dtype == torch.float64 and copies.abs().max() <= math.pi + 1e-12\n'
                                               '>>> assert abs(_spring_loss(copies).item() - 3 * tau ** 2 / 128) < 0.0001\n',
                                       'failure_message': 'copies must be a float64 tensor of shape (128, 3): n_codes codes of three angles, each in [-pi, pi], whose spring loss is the minimum 3 '
                                                          'tau^2 / 128 (each column equally spaced around the circle)',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
