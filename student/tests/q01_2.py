OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_2',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(0 <= r2_area <= 1 and 0 <= r2_radius <= 1)\nTrue',
                                       'failure_message': 'r2_area and r2_radius must be the .r2 of two linear_fit results, each between 0 and 1',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
