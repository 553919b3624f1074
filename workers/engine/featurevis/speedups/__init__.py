"""How renders run fast without changing what they compute (beyond rounding).

The render copy of a network (fast.py: batch norms folded, channels-last, frozen) and the
module surgery it is built with (pointwise.py, fused.py, stem.py, swap.py), and the compiled
forward of a render step (compiled.py). Which of them a render uses is a `RenderOptions`
(options.py beside this package), passed by the caller.
"""
