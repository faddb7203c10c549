/* cluster.h - declarations of csrc/cluster.c (included by fastloss.h). */
#ifndef FL_CLUSTER_H
#define FL_CLUSTER_H

#endif /* FL_CLUSTER_H */
