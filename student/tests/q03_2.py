OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(median_distance, float) and median_distance >= 0)\nTrue',
                                       'failure_message': 'median_distance must be a Python float, a distance in pixels (use .item())',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
