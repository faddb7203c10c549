# Bindings of csrc/margin.h (included by _kernels.pyx).
