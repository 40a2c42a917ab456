OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(centroids, torch.Tensor) and tuple(centroids.shape) == (200, 2, 2)\n'
                                               '>>> assert centroids.dtype == torch.float32\n'
                                               '>>> assert centroids.min() >= 0 and centroids.max() <= 63\n'
                                               '>>> assert isinstance(median_distance, float) and median_distance >= 0\n',
                                       'failure_message': 'centroids must be a float32 tensor (200, 2, 2) of (x, y) positions inside the 64 x 64 image; median_distance a Python float >= 0 (use '
                                                          '.item())',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
