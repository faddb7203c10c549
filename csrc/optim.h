/* optim.h - declarations of csrc/optim.c (included by fastloss.h). */
#ifndef FL_OPTIM_H
#define FL_OPTIM_H

#endif /* FL_OPTIM_H */
