OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(isinstance(gap_leaky, float) and isinstance(gap_sigmoid, float))\nTrue',
                                       'failure_message': 'gap_leaky and gap_sigmoid must be Python floats: .item() turns a one-element tensor into one',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
