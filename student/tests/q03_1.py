OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> bool(swapped.shape == spike_codes.shape and (not torch.equal(swapped, spike_codes)))\nTrue',
                                       'failure_message': 'swapped must have the shape of spike_codes (8, 2, 3) with its blocks (dimension 1) exchanged',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
