OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert np.shape(support) == (10, 10) and np.all(np.asarray(support) >= 0)\n'
                                               '>>> assert np.shape(owner) == (10,) and set(np.asarray(owner).tolist()) <= set(range(10))\n'
                                               '>>> assert np.shape(foreign) == (10,)\n'
                                               '>>> assert np.all((np.asarray(foreign) >= 0) & (np.asarray(foreign) <= 0.9 + 1e-09))\n'
                                               '>>> assert isinstance(residual, float) and residual >= 0\n',
                                       'failure_message': 'support must be a (10, 10) array of mean absolute values (>= 0); owner a (10,) array of projector indices 0-9; foreign a (10,) array of '
                                                          'shares between 0 and 1 - 1/k = 0.9 (0 when one projector holds all of a coordinate); residual a float >= 0.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
