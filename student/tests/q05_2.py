OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _n = int((one_factor_pairs.factors1 != one_factor_pairs.factors2).any(1).sum())\n'
                                               '>>> _m = np.asarray(shared)\n'
                                               '>>> assert _m.dtype == bool and _m.shape == (_n, 10)\n'
                                               '>>> assert (~_m).any(axis=1).all()\n'
                                               '>>> assert isinstance(mean_shared, float) and abs(mean_shared - _m.sum(1).mean()) < 1e-09\n',
                                       'failure_message': 'shared must be boolean with one row per pair whose factors differ (the pairs with two identical images left out) and 10 columns; the '
                                                          'largest divergence of a pair is never below its midpoint, so every row has at least one False. mean_shared is a float, the mean of the '
                                                          "rows' sums.",
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
