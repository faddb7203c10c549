/* divergence.h - declarations of csrc/divergence.c (included by fastloss.h). */
#ifndef FL_DIVERGENCE_H
#define FL_DIVERGENCE_H

#endif /* FL_DIVERGENCE_H */
