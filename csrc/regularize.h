/* regularize.h - declarations of csrc/regularize.c (included by fastloss.h). */
#ifndef FL_REGULARIZE_H
#define FL_REGULARIZE_H

#endif /* FL_REGULARIZE_H */
