# Bindings of csrc/elementwise.h (included by _kernels.pyx).
