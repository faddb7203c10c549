# Bindings of csrc/nn.h (included by _kernels.pyx).
