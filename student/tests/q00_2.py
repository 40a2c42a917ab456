OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q00_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _white = torch.ones(3, 1, 28, 28)\n'
                                               '>>> _half = binary_cross_entropy(_white, torch.full_like(_white, 0.5))\n'
                                               '>>> assert tuple(_half.shape) == (3,)\n'
                                               '>>> assert torch.allclose(_half, torch.full((3,), 0.6931472), atol=1e-05)\n',
                                       'failure_message': 'binary_cross_entropy(x, x_hat) must return one loss per image, shape (B,): for a white image (x = 1 everywhere) drawn as x_hat = 0.5 '
                                                          'everywhere the loss is log 2 = 0.693',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> assert tuple(bce.shape) == (len(_digits),)\n'
                                               '>>> assert bool(torch.isfinite(bce).all()) and bool((bce >= 0).all())\n'
                                               '>>> assert tuple(class_bce.shape) == (10,)\n'
                                               '>>> assert isinstance(worst, int) and 0 <= worst <= 9\n',
                                       'failure_message': 'bce must have one finite loss >= 0 per test digit (clamp x_hat before the log), class_bce shape (10,), and worst a Python int between 0 and '
                                                          '9',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
