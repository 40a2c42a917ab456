OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_5',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert np.shape(votes) == (5, 5) and np.issubdtype(np.asarray(votes).dtype, np.integer)\n'
                                               '>>> assert np.array_equal(np.sum(votes, axis=1), np.bincount(fixed, minlength=5))\n'
                                               '>>> assert np.shape(classifier) == (5,)\n'
                                               '>>> assert set(np.asarray(classifier).tolist()) <= set(range(5))\n'
                                               '>>> assert isinstance(fv_accuracy, float) and 0 <= fv_accuracy <= 1\n',
                                       'failure_message': "votes must be a (5, 5) integer array with one vote per batch, 500 in all, each under its batch's fixed factor: row k of votes sums to the "
                                                          'number of batches with fixed == k. classifier is a (5,) integer array of factors (0-4), fv_accuracy a float between 0 and 1.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
