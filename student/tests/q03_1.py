OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q03_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> assert isinstance(swapped, torch.Tensor) and swapped.shape == spike_codes.shape\n>>> assert not torch.equal(swapped, spike_codes)\n',
                                       'failure_message': 'swapped must have the shape of spike_codes, (200, 2, 3), and differ from it',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
