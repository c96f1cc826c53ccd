"""Hypothesis profiles: ``dev`` by default, ``ci`` (2,000 derandomised examples per property)
with ``HYPOTHESIS_PROFILE=ci`` or ``--hypothesis-profile ci`` (as ``.ci/run`` does)."""

from faceshot_retarget.testing import load_hypothesis_profile

load_hypothesis_profile()
