OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(rotated.shape == true_codes.shape and np.array_equal(rotated[:, :3], true_codes[:, :3]))\nTrue',
                                       'failure_message': 'rotated must have the shape of true_codes, with columns 0-2 (shape, scale, orientation) unchanged',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
