OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q05_5',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _b = hybrid_pick % 256\n'
                                               '>>> assert tuple(hybrid.shape) == (64, 10, 10) and hybrid.dtype == torch.float32\n'
                                               '>>> assert ((hybrid != s2[_b]).any(dim=-1).sum(dim=1) <= 1).all()\n'
                                               '>>> assert isinstance(cons, float) and cons >= 0\n',
                                       'failure_message': "hybrid must be a (64, 10, 10) float32 tensor; each hybrid is s2[b] of its pair b with at most one projector's row changed (the one taken "
                                                          'from s1). cons is a float >= 0.',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
