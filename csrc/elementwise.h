/* elementwise.h - declarations of csrc/elementwise.c (included by fastloss.h). */
#ifndef FL_ELEMENTWISE_H
#define FL_ELEMENTWISE_H

#endif /* FL_ELEMENTWISE_H */
