"""real_runs: the vLLM collection harness of muxsim (see real_runs/README.md).

Entry point: :func:`real_runs.collect.main` (``muxsim collect CONFIG``, or
``python -m real_runs CONFIG``). real_runs imports muxsim; muxsim never imports
real_runs.
"""
