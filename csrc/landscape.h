/* landscape.h - declarations of csrc/landscape.c (included by fastloss.h). */
#ifndef FL_LANDSCAPE_H
#define FL_LANDSCAPE_H

#endif /* FL_LANDSCAPE_H */
