"""mockfeed's benchmarks, each figure measured beside a ceiling in the same run.

Run ``python -m benchmarks`` (about two minutes), ``--long`` for longer runs, ``--only NAME`` for
one figure (rest, model, fanout, startup), ``--compare OLD.json`` to print the change against an
earlier run. Results are written to ``benchmarks/results/`` as JSON (git-ignored).
"""
