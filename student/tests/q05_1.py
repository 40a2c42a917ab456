OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_1',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _perm = torch.zeros(1, 10, 10)\n'
                                               '>>> _perm[0, torch.arange(10), torch.randperm(10)] = 1.0\n'
                                               '>>> assert l_spar(_perm).dim() == 0 and abs(l_spar(_perm).item()) < 1e-09\n'
                                               '>>> _shared = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.5, 2.0, 0.0, 0.0], [0.0, 0.0, 1.5, -1.0]]])\n'
                                               '>>> assert abs(l_spar(_shared).item() - 1.0) < 1e-06\n'
                                               '>>> assert isinstance(spar_pmp, float) and isinstance(spar_half, float)\n',
                                       'failure_message': "l_spar(s) must return a 0-d tensor. It is 0 when every coordinate has one owner (a permutation), and section 4's example with projectors 0 "
                                                          'and 1 both on coordinate 0 costs |1 x 0.5| + |0.5 x 1| = 1. spar_pmp and spar_half are floats.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
