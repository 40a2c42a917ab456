OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _t, _p = ring_profile(torch.ones(64, 64))\n'
                                               '>>> assert isinstance(_t, np.ndarray) and isinstance(_p, np.ndarray)\n'
                                               '>>> assert _t.shape == (32,) and _p.shape == (32,)\n'
                                               '>>> assert np.all(np.diff(_t) > 0) and 0 <= _t[0] < 1 and (_t[-1] < 32)\n'
                                               '>>> assert np.allclose(_p, 1.0)\n',
                                       'failure_message': 'ring_profile must return two numpy arrays of shape (32,): t increasing from under 1 to under 32, and for an image of ones the profile is 1 '
                                                          'in every ring',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': '>>> assert np.shape(t_unit) == (32,) and np.shape(profile_unit) == (32,)\n',
                                       'failure_message': 't_unit and profile_unit must be ring_profile(unit_image): two arrays of shape (32,)',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
