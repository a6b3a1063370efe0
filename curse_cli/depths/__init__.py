"""`curse depth`: the prediction of one network at several depths."""
