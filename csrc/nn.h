/* nn.h - declarations of csrc/nn.c (included by fastloss.h). */
#ifndef FL_NN_H
#define FL_NN_H

#endif /* FL_NN_H */
