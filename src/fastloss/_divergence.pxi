# Bindings of csrc/divergence.h (included by _kernels.pyx).
