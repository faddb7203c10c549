# Bindings of csrc/regularize.h (included by _kernels.pyx).
