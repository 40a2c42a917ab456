OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'q01_4',
    'points': 1,
    'suites': [   {   'cases': [   {   'code': '>>> _g = np.cos(np.linspace(0.0, 1.5, 20))\n'
                                               '>>> assert isinstance(scaled_error(2.5 * _g, _g), float)\n'
                                               '>>> assert abs(scaled_error(2.5 * _g, _g)) < 1e-12 and abs(scaled_error(-_g, _g)) < 1e-12\n',
                                       'failure_message': 'scaled_error must return a Python float, and 0 when f is g times a positive or negative scale: the least-squares scale removes it',
                                       'hidden': False,
                                       'locked': False},
                                   {   'code': ">>> assert set(errors) == {'Airy', *alternative_profiles(_t_net, 32.0)}\n"
                                               '>>> assert all((isinstance(e, float) and 0 <= e <= 1 for e in errors.values()))\n'
                                               '>>> assert isinstance(verdict, bool)\n',
                                       'failure_message': 'errors must map "Airy" and the three names of alternative_profiles to Python floats between 0 and 1, and verdict must be a bool',
                                       'hidden': False,
                                       'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
