# Bindings of csrc/cluster.h (included by _kernels.pyx).
