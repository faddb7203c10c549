# Bindings of csrc/landscape.h (included by _kernels.pyx).
