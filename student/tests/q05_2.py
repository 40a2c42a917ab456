OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(mean_shared, float) and 0 <= mean_shared <= 10)\nTrue',
                                       'failure_message': 'mean_shared must be a Python float between 0 and 10: the mean over pairs of the shared count',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
