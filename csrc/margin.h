/* margin.h - declarations of csrc/margin.c (included by fastloss.h). */
#ifndef FL_MARGIN_H
#define FL_MARGIN_H

#endif /* FL_MARGIN_H */
