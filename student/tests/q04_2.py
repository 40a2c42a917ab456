OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert rotated is not true_codes and rotated.shape == true_codes.shape\n'
                                               '>>> assert np.array_equal(rotated[:, :3], true_codes[:, :3])\n'
                                               '>>> assert not np.allclose(rotated[:, 3:], true_codes[:, 3:])\n'
                                               '>>> assert 0 <= mig_rotated <= 1\n',
                                       'failure_message': 'rotated must be a new array of the shape of true_codes, with columns 0-2 (shape, scale, orientation) unchanged and columns 3 and 4 changed; '
                                                          'mig_rotated a MIG score between 0 and 1: mig(rotated, factors)',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
