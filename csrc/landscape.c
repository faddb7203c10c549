/* landscape.c - placeholder until the kernels land. */
#include "fl_common.h"
