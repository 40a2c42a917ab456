OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q04_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(0 <= mig_20 <= 1 and 0 <= mig_40 <= 1)\nTrue',
                                       'failure_message': 'mig_20 and mig_40 must be MIG scores, between 0 and 1: mig(codes, factors, num_bins=...)',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
