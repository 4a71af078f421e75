"""The course's assignments, as the tests use them (``autograder.course``)."""

from autograder import course

COURSE = course.current()
TLN = COURSE.get("two_layer_net")  # the two-layer network assignment
FND = COURSE.get("foundations")    # the foundations assignment
DMLP = COURSE.get("deep_mlp")     # the deeper networks assignment
