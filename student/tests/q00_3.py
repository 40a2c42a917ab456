OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q00_3',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert tuple(means.shape) == (10, 2)\n'
                                               '>>> assert tuple(predicted.shape) == (len(_labels),) and predicted.dtype == torch.int64\n'
                                               '>>> assert int(predicted.min()) >= 0 and int(predicted.max()) <= 9\n'
                                               '>>> assert isinstance(accuracy, float) and 0 <= accuracy <= 1\n'
                                               '>>> assert abs(accuracy - (predicted == _labels).float().mean().item()) < 1e-06\n',
                                       'failure_message': 'means must have shape (10, 2); predicted must be an int64 tensor with one digit (0-9) per test code, and accuracy the fraction of predicted '
                                                          '== labels, a Python float between 0 and 1',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
