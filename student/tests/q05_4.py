OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_4',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _p = one_factor_pairs\n'
                                               '>>> _differ = (_p.factors1 != _p.factors2).any(1)\n'
                                               '>>> _changed = (_p.factors1 != _p.factors2).argmax(1)[_differ]\n'
                                               '>>> assert np.issubdtype(np.asarray(moved).dtype, np.integer)\n'
                                               '>>> assert np.shape(moved) == (int(_differ.sum()),)\n'
                                               '>>> assert set(np.asarray(moved).tolist()) <= set(range(10))\n'
                                               '>>> assert np.shape(moved_counts) == (5, 10)\n'
                                               '>>> assert np.array_equal(np.sum(moved_counts, axis=1), np.bincount(_changed, minlength=5))\n',
                                       'failure_message': 'moved must be an integer array of projector indices (0-9) with one entry per pair whose factors differ; moved_counts a (5, 10) integer '
                                                          'array that counts these pairs, one row per factor: row f sums to the number of differing pairs whose changed factor is f.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
