# Bindings of csrc/optim.h (included by _kernels.pyx).
